"""Takedowns: four-eyes approval, the outbox of takedown requests, their delivery to platform
operators with retries and a sweeper, operators' callbacks, SLA tracking, and the platforms
themselves (DESIGN.md "Takedown request to an operator", "Delivery guarantees").

The public face, for other apps and areas: the one definition of operator compliance (the
dashboard shows it too), of an overdue request and of the outbox's lag (the metrics, the
readiness check), configuring a platform (the admin, the command, the demo data), and the
restore requests of granted objections (the objections area writes them in its decision's
transaction; supervisors retry or cancel them like takedown requests).
Everything else stays inside the area.
"""

from moderation.takedowns.selectors import (
    COMPLIANCE_COUNTS,
    Compliance,
    compliance_counts,
    outbox_lag_seconds,
    overdue_filter,
    takedown_compliance,
)
from moderation.takedowns.services import (
    TakedownActionRefused,
    restore_cancel,
    restore_request_create,
    restore_retry,
)
from moderation.takedowns.services.platforms import (
    SECRET_FIELDS,
    platform_audit,
    platform_configure,
    platform_secrets_reencrypt,
)

__all__ = [
    "COMPLIANCE_COUNTS",
    "SECRET_FIELDS",
    "Compliance",
    "TakedownActionRefused",
    "compliance_counts",
    "outbox_lag_seconds",
    "overdue_filter",
    "platform_audit",
    "platform_configure",
    "platform_secrets_reencrypt",
    "restore_cancel",
    "restore_request_create",
    "restore_retry",
    "takedown_compliance",
]
