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
