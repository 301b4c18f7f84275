"""The authentication backend: login tokens in, users out, and nothing else.

It subclasses BaseBackend, not ModelBackend: a ModelBackend in the backend list adds
permission queries to every permission check, and Label Studio's own ModelBackend
already answers those.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import BaseBackend
from django.http import HttpRequest

from .. import audit
from ..errors import TokenRejected
from ..sessions import user_with_stamp
from .login import authenticate_login_token


class JWTAuthenticationBackend(BaseBackend):
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

    def get_user(self, user_id: Any) -> Any:
        """The session's user if it still exists and is active; inactive users get no UI.

        Loaded with the user's session stamp in the same query (every session, password
        logins too, is routed here when it begins), so checking whether the session was
        ended costs no query of its own.
        """
        user = user_with_stamp(user_id)
        return user if user is not None and user.is_active else None
