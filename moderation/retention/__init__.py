"""Retention under Indonesia's Personal Data Protection Law (UU 27/2022): evidence pictures'
bytes and public reporters' contact details are deleted a set time after their case reached
its final state, unless a supervisor holds the case (a legal hold). README "Retention".

The public face, for the `retention_run` command: `retention_run` (delete what is due, in
batches) and `retention_due` (what a run would delete now). The beat task, the legal hold and
the batches' page stay inside the area.
"""

from moderation.retention.selectors import RetentionDue, retention_due
from moderation.retention.services import RetentionResult, retention_run

__all__ = ["RetentionDue", "RetentionResult", "retention_due", "retention_run"]
