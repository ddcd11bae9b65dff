from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from config import secretbox
from moderation.audit import Actor
from moderation.takedowns import platform_secrets_reencrypt


class Command(BaseCommand):
    help = (
        "Re-encrypt every platform's stored secrets under the first key of "
        "PLATFORM_SECRET_KEYS (step 2 of a key rotation: README, Security). The secrets "
        "themselves do not change; each platform gets an audit event."
    )

    def handle(self, *args, **options) -> None:
        try:
            count = platform_secrets_reencrypt(
                actor=Actor.system("manage.py rotate_platform_secrets")
            )
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"Re-encrypted the secrets of {count} platform(s) under key "
            f"{secretbox.key_fingerprint()}; older keys may now be dropped from "
            "PLATFORM_SECRET_KEYS."
        )
