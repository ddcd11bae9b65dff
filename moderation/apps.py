from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _grant_runtime_role(sender, using: str = "default", **kwargs) -> None:
    """After every migrate, give the runtime role (DATABASE_RUNTIME_ROLE) its privileges."""
    from django.conf import settings
    from django.db import connections

    from config.dbroles import grant_runtime_role
    from moderation.models import APPEND_ONLY_MODELS

    role = settings.DATABASE_RUNTIME_ROLE
    if not role:
        return
    with connections[using].cursor() as cursor:
        grant_runtime_role(cursor, role, [model._meta.db_table for model in APPEND_ONLY_MODELS])


class ModerationConfig(AppConfig):
    name = "moderation"
    verbose_name = _("Moderation")

    def ready(self) -> None:
        post_migrate.connect(_grant_runtime_role, sender=self)
