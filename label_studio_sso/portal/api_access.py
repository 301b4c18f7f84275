"""Who may call the token API, and how often: DRF authentication, permission and throttle.

The token API authenticates exactly through Label Studio's own DRF authentication
classes, so Label Studio's policy (legacy tokens on or off per organization, Personal
Access Tokens) decides who the caller is. A plain browser session cannot issue tokens:
a login token for any user is a portal's server-side business.
"""

from __future__ import annotations

from typing import Any

from rest_framework.authentication import BaseAuthentication, SessionAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.throttling import UserRateThrottle

from ..accounts import refusal_reason
from ..conf import sso_settings
from ..rate_limits import SharedHistory


class ApiCredentialOnly(BaseAuthentication):
    """Wraps SessionAuthentication so it only accepts Label Studio's Bearer tokens.

    Label Studio verifies ``Authorization: Bearer`` access tokens in its own middleware
    (``jwt_auth``), which sets ``request.user`` and ``request.is_jwt``; DRF then sees
    that user through SessionAuthentication. A cookie session alone is refused here.
    """

    def __init__(self, inner: SessionAuthentication) -> None:
        self.inner = inner

    def authenticate(self, request: Request) -> Any:
        if not getattr(request._request, "is_jwt", False):
            return None
        return self.inner.authenticate(request)

    def authenticate_header(self, request: Request) -> str | None:
        return self.inner.authenticate_header(request)


def api_credentials_only(authenticators: list[BaseAuthentication]) -> list[BaseAuthentication]:
    """Label Studio's authenticators, with its session authentication limited to Bearer tokens."""
    return [
        ApiCredentialOnly(authenticator)
        if isinstance(authenticator, SessionAuthentication)
        else authenticator
        for authenticator in authenticators
    ]


class IsSsoIssuer(BasePermission):
    """Active staff users (or superusers only, per SSO_TOKEN_ISSUER_PERMISSION) who are
    still live members of an organization: Label Studio's member removal leaves the user
    active and their API token working, so the flags alone would let them mint on."""

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        if not (user.is_superuser or (sso_settings.SSO_TOKEN_ISSUER_PERMISSION == "staff" and user.is_staff)):
            return False
        return refusal_reason(user) is None


class IssuerRateThrottle(SharedHistory, UserRateThrottle):
    """SSO_RATE_LIMIT token requests per issuing user, through DRF's throttling, counted in the
    cache every worker and replica shares (``rate_limits``)."""

    scope = "sso_token"

    def get_rate(self) -> str:
        return sso_settings.SSO_RATE_LIMIT


class IssuerLogoutRateThrottle(IssuerRateThrottle):
    """The same limit for the logout API, counted apart: sign-outs never use up logins."""

    scope = "sso_logout"
