"""The 6.x authentication backend: login tokens in, users out, and nothing else.

Sessions are restored by the core's SessionBackend, which this class extends with
``authenticate(request, token=...)`` for code that logs a user in with a login token.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from .. import audit
from ..errors import TokenRejected
from ..session_backend import SessionBackend
from .login import authenticate_login_token


class JWTAuthenticationBackend(SessionBackend):
    """Authenticates a login token (redeeming it) and restores users of SSO sessions."""

    def authenticate(
        self,
        request: HttpRequest | None,
        sso_token: str | None = None,
        token: str | None = None,
        **kwargs: Any,
    ) -> Any:
        """Return the token's user, or None; acts only when given a token.

        ``token`` is the keyword label-studio-sso 6.x used; ``sso_token`` cannot clash
        with other backends' keywords. Password logins never reach this code path.
        """
        raw = sso_token if sso_token is not None else token
        if raw is None or kwargs.get("password") is not None:
            return None
        try:
            user, claims = authenticate_login_token(raw)
        except TokenRejected as rejected:
            audit.login_refused(reason=rejected.reason, transport="backend", user_id=rejected.user_id)
            return None
        audit.login_succeeded(user_id=user.pk, jti=claims.jti, transport="backend")
        return user
