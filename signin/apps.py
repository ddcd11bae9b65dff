from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SigninConfig(AppConfig):
    name = "signin"
    verbose_name = _("Sign-in")

    def ready(self) -> None:
        # Django and django-axes announce sign-ins only through signals; the receivers are
        # one line each and hand over to signin.services.
        from signin import receivers  # noqa: F401
