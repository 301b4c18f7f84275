"""Turn a login token into an ordinary Label Studio session, or refuse it cleanly.

Shared by the middleware (cookie and URL tokens), the explicit login view and the
authentication backend. Redemption and login share one transaction, and any failure
leaves the browser's existing session as it was.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from django.contrib import auth
from django.contrib.auth import get_user_model
from django.db import DatabaseError, transaction
from django.http import HttpRequest

from . import audit
from .accounts import refusal_reason
from .exceptions import Reason, TokenRejected
from .redemption import redeem
from .tokens import LoginClaims, verify_login_token

logger = logging.getLogger(__name__)

BACKEND_PATH = "label_studio_sso.backends.JWTAuthenticationBackend"
SESSION_JTI_KEY = "_sso_jti"
# Label Studio's InactivitySessionTimeoutMiddleWare logs a session out unless this is set.
SESSION_LAST_LOGIN_KEY = "last_login"


@dataclass(frozen=True)
class LoginOutcome:
    """What happened to a login token: ``reason`` is a Reason value."""

    reason: str

    @property
    def logged_in(self) -> bool:
        return self.reason in (Reason.LOGGED_IN, Reason.ALREADY_LOGGED_IN)


def find_login_user(claims: LoginClaims) -> Any:
    """The active user a verified token names, or TokenRejected.

    The email must still match, so a token cannot log in a different user who was
    later given the same id (SQLite reuses the highest id after a deletion).
    """
    user = get_user_model()._default_manager.filter(pk=claims.user_id).first()
    if user is None or (user.email or "").lower() != claims.email.lower():
        raise TokenRejected(Reason.USER_NOT_FOUND, claims.user_id)
    reason = refusal_reason(user)
    if reason is not None:
        raise TokenRejected(reason, claims.user_id)
    return user


def claim_user(claims: LoginClaims) -> Any:
    """Look up the token's user and redeem the token; call inside a transaction."""
    user = find_login_user(claims)
    redeem(claims)
    return user


def authenticate_login_token(raw: Any) -> tuple[Any, LoginClaims]:
    """Verify a token and redeem it for its user, without a session; raise TokenRejected."""
    claims = verify_login_token(raw)
    try:
        with transaction.atomic():
            return claim_user(claims), claims
    except DatabaseError as error:
        raise _database_unavailable(error, claims) from error


def log_in_with_token(request: HttpRequest, raw: Any, transport: str) -> LoginOutcome:
    """Log the request's browser in as the token's user, or leave its session alone."""
    try:
        claims = verify_login_token(raw)
        if _already_redeemed_by_this_session(request, claims):
            return LoginOutcome(Reason.ALREADY_LOGGED_IN)
        user = _log_in(request, claims)
    except TokenRejected as rejected:
        logger.info("sso login refused via %s: %s", transport, rejected.reason)
        audit.login_refused(reason=rejected.reason, transport=transport, user_id=rejected.user_id)
        return LoginOutcome(rejected.reason)
    audit.login_succeeded(user_id=user.pk, jti=claims.jti, transport=transport)
    return LoginOutcome(Reason.LOGGED_IN)


def _already_redeemed_by_this_session(request: HttpRequest, claims: LoginClaims) -> bool:
    session = getattr(request, "session", None)
    user = getattr(request, "user", None)
    return (
        session is not None
        and user is not None
        and user.is_authenticated
        and user.pk == claims.user_id
        and session.get(SESSION_JTI_KEY) == claims.jti
    )


def _log_in(request: HttpRequest, claims: LoginClaims) -> Any:
    """Redeem and log in within one transaction; on a database error undo both.

    Django's login() cycles the session key (or flushes another user's session) and
    writes ``last_login``; if anything fails, the session and the request's user are
    put back as they were and the redeemed record is rolled back with the rest.
    """
    previous_user = getattr(request, "user", None)
    previous_data = dict(request.session.items())
    try:
        with transaction.atomic():
            user = claim_user(claims)
            _ensure_active_organization(user)
            auth.login(request, user, backend=BACKEND_PATH)
    except DatabaseError as error:
        request.session.clear()
        request.session.update(previous_data)
        if previous_user is not None:
            request.user = previous_user
        raise _database_unavailable(error, claims) from error
    request.session[SESSION_LAST_LOGIN_KEY] = time.time()
    request.session[SESSION_JTI_KEY] = claims.jti
    return user


def _database_unavailable(error: DatabaseError, claims: LoginClaims) -> TokenRejected:
    logger.warning("sso login: database unavailable (%s)", type(error).__name__)
    return TokenRejected(Reason.DATABASE_UNAVAILABLE, claims.user_id)


def _ensure_active_organization(user: Any) -> None:
    """Give a user without one the first organization they are still a member of.

    Label Studio's login form does the same; its own member removal picks the first
    membership that is not soft-deleted, and so does this.
    """
    if getattr(user, "active_organization_id", 0) is not None:
        return
    organization = user.organizations.filter(organizationmember__deleted_at__isnull=True).first()
    if organization is not None:
        user.active_organization = organization
        user.save(update_fields=["active_organization"])
