from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class StaffBackend(ModelBackend):
    """Django's own backend, loading the session epoch with the user in the same query, so
    the per-request "signed out everywhere?" check costs nothing (signin.middleware)."""

    def get_user(self, user_id):
        user = (
            get_user_model()
            ._default_manager.select_related("signin_epoch")
            .filter(pk=user_id)
            .first()
        )
        return user if user is not None and self.user_can_authenticate(user) else None
