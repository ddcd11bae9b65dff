from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.endpoints import validate_endpoint
from config.secretbox import EncryptedSecretField


class Platform(models.Model):
    """A chat platform's operator: where takedown requests go and whose callbacks we accept."""

    slug = models.SlugField(_("slug"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)
    endpoint_url = models.URLField(
        _("operator endpoint URL"), max_length=500, validators=[validate_endpoint]
    )
    # Encrypted at rest with PLATFORM_SECRET_KEYS (config/secretbox.py); the model holds the
    # secret, the table a Fernet token.
    signing_secret = EncryptedSecretField(
        _("signing secret"), max_length=200, help_text=_("Signs requests we send.")
    )
    restore_url = models.URLField(
        _("restore endpoint URL"),
        max_length=500,
        blank=True,
        validators=[validate_endpoint],
        help_text=_(
            "Where restore requests of granted objections go (docs/objections.md). Empty: "
            "they wait as dead letters until an address is set."
        ),
    )
    callback_secret = EncryptedSecretField(
        _("callback secret"), max_length=200, help_text=_("Verifies the operator's callbacks.")
    )
    # A regular expression with one group, the account id, to read profile URLs with.
    profile_url_pattern = models.CharField(_("profile URL pattern"), max_length=300, blank=True)
    active = models.BooleanField(_("active"), default=True)
    rate_limit_per_second = models.FloatField(
        _("requests per second"), default=5.0, validators=[MinValueValidator(0.01)]
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rate_limit_per_second__gt=0), name="platform_rate_limit_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ChatAccount(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        UNDER_REVIEW = "under_review", _("Under review")
        TAKEDOWN_REQUESTED = "takedown_requested", _("Takedown requested")
        TAKEN_DOWN = "taken_down", _("Taken down")
        CLEARED = "cleared", _("Cleared")

    class IdentifierKind(models.TextChoices):
        PHONE = "phone", _("Phone number")
        HANDLE = "handle", _("Handle")
        PLATFORM_ID = "platform_id", _("Platform id")

    platform = models.ForeignKey(Platform, on_delete=models.PROTECT, related_name="accounts")
    # Normalised: E.164 for phone numbers, case-folded without "@" for handles.
    identifier = models.CharField(_("identifier"), max_length=255)
    identifier_kind = models.CharField(max_length=16, choices=IdentifierKind.choices)
    display_name = models.CharField(_("display name"), max_length=255, blank=True)
    profile_url = models.URLField(_("profile URL"), max_length=1000, blank=True)
    phone_numbers = ArrayField(
        models.CharField(max_length=20), default=list, blank=True, verbose_name=_("phone numbers")
    )
    status = models.CharField(
        _("status"), max_length=24, choices=Status.choices, default=Status.UNDER_REVIEW
    )
    first_reported_at = models.DateTimeField(_("first reported"))
    last_reported_at = models.DateTimeField(_("last reported"))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "identifier"], name="chataccount_unique_per_platform"
            ),
            models.CheckConstraint(
                condition=~models.Q(identifier=""), name="chataccount_identifier_not_empty"
            ),
        ]
        indexes = [
            GinIndex(fields=["phone_numbers"], name="chataccount_phones_gin"),
            models.Index(fields=["status"], name="chataccount_status_idx"),
            models.Index(fields=["identifier"], name="chataccount_identifier_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.platform.slug}:{self.identifier}"
