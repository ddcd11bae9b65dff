from __future__ import annotations

import secrets

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import Platform
from moderation.audit import Actor
from moderation.takedowns import platform_configure


class Command(BaseCommand):
    help = (
        "Create or update a platform operator. A new platform without secrets gets random ones, "
        "printed once; secrets of an existing platform change only when given."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--endpoint", help="operator endpoint URL for takedown requests")
        parser.add_argument(
            "--restore-endpoint",
            help="operator endpoint URL for restore requests of granted objections",
        )
        parser.add_argument("--name")
        parser.add_argument("--signing-secret")
        parser.add_argument("--callback-secret")
        parser.add_argument("--rate-limit", type=float, help="requests per second")
        state = parser.add_mutually_exclusive_group()
        state.add_argument("--active", dest="active", action="store_true", default=None)
        state.add_argument("--inactive", dest="active", action="store_false")

    def handle(self, *args, **options) -> None:
        slug = options["slug"]
        exists = Platform.objects.filter(slug=slug).exists()
        if not exists and not options["endpoint"]:
            raise CommandError(f"Platform {slug!r} does not exist yet: give --endpoint.")
        generated = []
        if not exists:
            for name in ("signing_secret", "callback_secret"):
                if not options[name]:
                    options[name] = secrets.token_urlsafe(32)
                    generated.append(name)
        for name in ("signing_secret", "callback_secret"):
            if options[name] is not None and len(options[name]) < 32:
                raise CommandError(f"--{name.replace('_', '-')} must be at least 32 characters.")
        try:
            platform, created = platform_configure(
                slug=slug,
                actor=Actor.system("manage.py configure_platform"),
                endpoint_url=options["endpoint"],
                restore_url=options["restore_endpoint"],
                name=options["name"],
                signing_secret=options["signing_secret"],
                callback_secret=options["callback_secret"],
                rate_limit_per_second=options["rate_limit"],
                active=options["active"],
            )
        except ValidationError as exc:
            problems = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
            raise CommandError(f"Platform {slug!r} not saved: {problems}") from None
        verb = "Created" if created else "Updated"
        self.stdout.write(
            f"{verb} platform {platform.slug} ({platform.name}) -> {platform.endpoint_url}"
        )
        for name in generated:
            self.stdout.write(f"{name}: {getattr(platform, name)}")
