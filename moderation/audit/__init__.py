"""The audit trail: append-only events sealed into a Merkle tree with signed checkpoints
(DESIGN.md "The audit trail"), and the auditors' pages and exports.

The public face, for every app and area that changes state: `audit_record` (one event) and
`audit_record_many` (a batch) in the caller's transaction, with an `Actor`. For the commands
(the sequencer, `audit_verify`, `audit_key`) and the stand-in witness: sealing and signing
(`run_sequencer`), verification (`log_verify`) and the signing key. For backups: the sealed
head and the last checkpoint (`latest_head`, `latest_checkpoint`). For the metrics: the
sealing backlog (`audit_sealing_backlog`). For pages that tell a story: what an action code
means (`action_label`). verifier/saring_verify.py is the standalone
verifier they share with outsiders.
"""

from moderation.audit.actions import action_label
from moderation.audit.selectors import SealingBacklog, audit_sealing_backlog
from moderation.audit.services.chain import (
    Actor,
    AuditEntry,
    audit_record,
    audit_record_many,
)
from moderation.audit.services.checkpoints import (
    SigningKeyMissing,
    create_signing_key,
    latest_checkpoint,
    run_sequencer,
    verifier_key,
)
from moderation.audit.services.log import LogReport, latest_head, log_verify

__all__ = [
    "Actor",
    "AuditEntry",
    "LogReport",
    "SealingBacklog",
    "SigningKeyMissing",
    "action_label",
    "audit_record",
    "audit_record_many",
    "audit_sealing_backlog",
    "create_signing_key",
    "latest_checkpoint",
    "latest_head",
    "log_verify",
    "run_sequencer",
    "verifier_key",
]
