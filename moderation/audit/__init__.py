"""The audit trail: append-only and hash-chained (DESIGN.md "The audit trail"), and the
auditors' pages and exports.

The public face, for every app and area that changes state: `audit_record` (one event) and
`audit_record_many` (a batch) in the caller's transaction, with an `Actor`; and
`audit_chain_verify` for the command. Everything else stays inside the area.
"""

from moderation.audit.services.chain import (
    GENESIS_HASH,
    Actor,
    AuditEntry,
    ChainReport,
    audit_chain_verify,
    audit_record,
    audit_record_many,
    canonical_fields,
    event_hash,
)

__all__ = [
    "GENESIS_HASH",
    "Actor",
    "AuditEntry",
    "ChainReport",
    "audit_chain_verify",
    "audit_record",
    "audit_record_many",
    "canonical_fields",
    "event_hash",
]
