from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class SessionEpoch(models.Model):
    """A counter per person; a session is valid only while it carries the current value.

    "Sign out everywhere" raises the counter, which ends every session of that person at its
    next request without searching the session table (signin.middleware)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="signin_epoch",
    )
    epoch = models.PositiveIntegerField(_("epoch"), default=0)
    changed_at = models.DateTimeField(_("changed at"), auto_now=True)

    class Meta:
        verbose_name = _("session epoch")

    def __str__(self) -> str:
        return f"Session epoch {self.epoch} of user {self.user_id}"


class SignInRecovery(models.Model):
    """Getting someone back in who lost their password or their authenticator: a new password
    and no device, so they enrol again. One administrator asks, another approves: nobody can
    take over someone's account — and approve takedowns in their name — alone
    (signin.services `recovery_request`, `recovery_approve`)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting for a second administrator")
        APPROVED = "approved", _("approved and carried out")
        CANCELLED = "cancelled", _("cancelled")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="signin_recoveries",
        verbose_name=_("person"),
    )
    reason = models.CharField(_("reason"), max_length=500)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("requested by"),
    )
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("approved or cancelled by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("sign-in recovery")
        verbose_name_plural = _("sign-in recoveries")
        constraints = [
            # The database's own word on four eyes: the approver is neither the requester
            # nor the person recovered.
            models.CheckConstraint(
                condition=~models.Q(status="approved")
                | (
                    models.Q(decided_by__isnull=False)
                    & ~models.Q(decided_by=models.F("requested_by"))
                    & ~models.Q(decided_by=models.F("user"))
                ),
                name="signin_recovery_four_eyes",
            ),
            models.CheckConstraint(
                condition=~models.Q(requested_by=models.F("user")),
                name="signin_recovery_not_of_oneself",
            ),
        ]

    def __str__(self) -> str:
        return f"Sign-in recovery {self.pk} of user {self.user_id} ({self.status})"


class StaffRole(models.Model):
    """The stable key of each staff role (`config.roles.Role`), bound to the group that holds
    it. Made by migration only; no page or admin changes it. Roles are checked by this key
    (`config.roles.roles_of`): a group's name is only a label, so renaming a group — by any
    path — or making a new group named "Supervisor" gives nobody a role."""

    key = models.CharField(_("key"), max_length=32, primary_key=True)
    group = models.OneToOneField(
        "auth.Group", on_delete=models.PROTECT, related_name="staff_role", verbose_name=_("group")
    )

    class Meta:
        verbose_name = _("staff role")

    def __str__(self) -> str:
        return self.key
