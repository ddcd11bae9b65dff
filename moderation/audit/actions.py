"""What each audit action code means, in words a person reads (English and Indonesian).

The code (`case.claimed`) is what the trail stores, exports and verifies; pages that tell a
story (a case's history, an account's timeline) show its label instead. A code with no label
here is shown as it is, so a new action is never hidden, only untranslated until added.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

ACTION_LABELS = {
    "account.status_changed": _("Account status changed"),
    "api_token.issued": _("API token issued"),
    "api_token.revoked": _("API token revoked"),
    "approval.approved": _("Proposal approved"),
    "approval.rejected": _("Proposal rejected"),
    "auth.2fa_enrolled": _("Two-factor sign-in turned on"),
    "auth.2fa_enrolment_failed": _("Two-factor enrolment failed"),
    "auth.2fa_failed": _("Wrong two-factor code"),
    "auth.2fa_removed": _("Two-factor sign-in removed"),
    "auth.2fa_verified": _("Two-factor code accepted"),
    "auth.locked_out": _("Locked out"),
    "auth.lockout_lifted": _("Lockout lifted"),
    "auth.password_changed": _("Password changed"),
    "auth.recovery_approved": _("Sign-in recovery approved"),
    "auth.recovery_cancelled": _("Sign-in recovery cancelled"),
    "auth.recovery_requested": _("Sign-in recovery requested"),
    "auth.signed_in": _("Signed in"),
    "auth.signed_out": _("Signed out"),
    "auth.signed_out_everywhere": _("Signed out everywhere"),
    "auth.signin_failed": _("Sign-in failed"),
    "case.claim_expired": _("Claim expired"),
    "case.claimed": _("Claimed"),
    "case.legal_hold_cleared": _("Legal hold cleared"),
    "case.legal_hold_set": _("Legal hold set"),
    "case.note_added": _("Note added"),
    "case.reassigned": _("Reassigned"),
    "case.released": _("Claim released"),
    "case.returning": _("Flagged returning: matches an account already taken down"),
    "case.status_changed": _("Status changed"),
    "decision.dismiss": _("Dismissed"),
    "decision.escalate": _("Escalated"),
    "decision.propose_takedown": _("Takedown proposed"),
    "decision.withdrawn": _("Decision undone by its author"),
    "evidence.added": _("Evidence added"),
    "export.completed": _("Export completed"),
    "export.contacts_approved": _("Contact export approved"),
    "export.contacts_refused": _("Contact export refused"),
    "export.downloaded": _("Export downloaded"),
    "export.failed": _("Export failed"),
    "export.requested": _("Export requested"),
    "export.retried": _("Export retried"),
    "legal_basis.changed": _("Legal basis changed"),
    "legal_basis.created": _("Legal basis created"),
    "objection.granted": _("Objection granted"),
    "objection.received": _("Objection received"),
    "objection.repeated": _("Objection sent again"),
    "objection.upheld": _("Objection decided: the takedown stands"),
    "organisation.changed": _("Source organisation changed"),
    "organisation.created": _("Source organisation created"),
    "platform.changed": _("Platform changed"),
    "platform.created": _("Platform created"),
    "platform.secrets_reencrypted": _("Platform secrets re-encrypted"),
    "preference.changed": _("Evidence settings changed"),
    "report.received": _("Report received"),
    "reports.import_finished": _("Import finished"),
    "reports.import_requested": _("Import requested"),
    "reports.import_retried": _("Import retried"),
    "restore.acknowledged": _("Restore request acknowledged by the operator"),
    "restore.cancelled": _("Restore request cancelled"),
    "restore.failed": _("Restore request delivery failed"),
    "restore.not_found": _("Operator found no account to restore"),
    "restore.reclaimed": _("Restore request delivery resumed"),
    "restore.refused": _("Restore refused by the operator"),
    "restore.requested": _("Restore requested"),
    "restore.restored": _("Restored by the operator"),
    "restore.retried": _("Restore request retried"),
    "restore.retry_scheduled": _("Restore request delivery will be retried"),
    "retention.contacts_erased": _("Contact details erased under retention"),
    "retention.evidence_deleted": _("Evidence deleted under retention"),
    "retention.objection_contacts_erased": _(
        "Objecting owners' contact details erased under retention"
    ),
    "retention.objection_pictures_deleted": _("Objecting owners' pictures deleted under retention"),
    "staff.details_changed": _("Staff details changed"),
    "staff.roles_changed": _("Staff roles changed"),
    "takedown.acknowledged": _("Takedown acknowledged by the operator"),
    "takedown.cancelled": _("Takedown cancelled"),
    "takedown.failed": _("Takedown delivery failed"),
    "takedown.issued": _("Takedown issued"),
    "takedown.not_found": _("Operator found no such account"),
    "takedown.overdue": _("Takedown overdue"),
    "takedown.reclaimed": _("Takedown delivery resumed"),
    "takedown.refused": _("Takedown refused by the operator"),
    "takedown.retried": _("Takedown retried"),
    "takedown.retry_scheduled": _("Takedown delivery will be retried"),
    "takedown.taken_down": _("Taken down by the operator"),
    "takedown.warning": _("Takedown deadline near"),
}


def action_label(action: str) -> str:
    """The action's label in the current language; the code itself when it has none."""
    label = ACTION_LABELS.get(action)
    return str(label) if label is not None else action
