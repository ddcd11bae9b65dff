"""Bearer tokens of source organisations (DESIGN.md "Intake API")."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions

from reports.models import ApiToken
from reports.services.tokens import api_token_authenticate


class OrganisationPrincipal:
    """Stands in for `request.user`: the organisation a token belongs to."""

    is_authenticated = True
    is_anonymous = False

    def __init__(self, token: ApiToken) -> None:
        self.token = token
        self.organisation = token.organisation

    def __str__(self) -> str:
        return f"organisation:{self.organisation.slug}"


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None  # the permission below then answers 401
        scheme, _, value = header.partition(" ")
        value = value.strip()
        if scheme.lower() != "bearer" or not value or " " in value or len(value) > 200:
            raise exceptions.AuthenticationFailed(
                "Expected the header 'Authorization: Bearer <token>'."
            )
        token = api_token_authenticate(value)
        if token is None:
            raise exceptions.AuthenticationFailed("The token is unknown or has been revoked.")
        return OrganisationPrincipal(token), token

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="saring"'


class IsSourceOrganisation(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        return isinstance(request.auth, ApiToken)


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = BearerTokenAuthentication
    name = "organisationToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A source organisation's API token, issued by an administrator "
            "(shown once). Send it as `Authorization: Bearer <token>`.",
        }
