"""Turn a login token into an ordinary Label Studio session, or refuse it cleanly.

Shared by the middleware (cookie and URL tokens), the explicit login view and the
authentication backend. Redemption and login share one transaction, and a database
failure leaves the browser's existing session as it was.

Two rules protect a browser that is already logged in:

- Login CSRF: a token that would replace a *different* user's session on a request that
  did not come from this site or a portal the operator named is redeemed but held; the
  person confirms the switch on a page of this site (``confirmation``), or stays who they
  were. "From this site" is the browser's ``Sec-Fetch-Site: same-origin/same-site`` (sent
  over HTTPS only); "a named portal" is a ``Referer`` whose origin is in
  CSRF_TRUSTED_ORIGINS or SSO_FRAME_ANCESTORS. Anything else asks, a missing header too.
- A refused token that verified (so it was issued here, for someone) and names another
  user than the session's ends that session: on a shared computer the next person must
  not land on the previous one's pages. Tokens that do not verify never end a session,
  so nobody outside the portal can log anyone out with a made-up link.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.contrib import auth
from django.contrib.auth import get_user_model
from django.db import DatabaseError, transaction
from django.http import HttpRequest

from . import audit
from .accounts import refusal_reason, same_email
from .cross_origin import is_portal_origin, request_origin
from .exceptions import Reason, TokenRejected
from .redemption import redeem
from .tokens import LoginClaims, verify_login_token

logger = logging.getLogger(__name__)

BACKEND_PATH = "label_studio_sso.backends.JWTAuthenticationBackend"
SESSION_JTI_KEY = "_sso_jti"
SESSION_PENDING_KEY = "_sso_pending_login"
# Label Studio's InactivitySessionTimeoutMiddleWare logs a session out unless this is set.
SESSION_LAST_LOGIN_KEY = "last_login"
PENDING_SECONDS = 300  # how long a held switch waits for its confirmation at most
SAME_SITE_FETCHES = frozenset({"same-origin", "same-site"})


@dataclass(frozen=True)
class LoginOutcome:
    """What happened to a login token: ``reason`` is a Reason value."""

    reason: str
    session_ended: bool = False

    @property
    def logged_in(self) -> bool:
        return self.reason in (Reason.LOGGED_IN, Reason.ALREADY_LOGGED_IN)

    @property
    def needs_confirmation(self) -> bool:
        return self.reason == Reason.CONFIRMATION_REQUIRED


@dataclass(frozen=True)
class PendingLogin:
    """A user switch waiting for the person at the browser to confirm it."""

    current_user: Any
    user: Any
    jti: str  # of the token that was spent when the switch was held


def find_login_user(claims: LoginClaims) -> Any:
    """The active user a verified token names, or TokenRejected.

    The email must still match, so a token cannot log in a different user who was
    later given the same id (SQLite reuses the highest id after a deletion).
    """
    user = get_user_model()._default_manager.filter(pk=claims.user_id).first()
    if user is None or not same_email(user.email, claims.email):
        raise TokenRejected(Reason.USER_NOT_FOUND, claims.user_id, authentic=True)
    reason = refusal_reason(user)
    if reason is not None:
        raise TokenRejected(reason, claims.user_id, authentic=True)
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
        raise _database_unavailable(error, claims.user_id) from error


def log_in_with_token(request: HttpRequest, raw: Any, transport: str) -> LoginOutcome:
    """Log the request's browser in as the token's user, hold the switch, or refuse."""
    try:
        claims = verify_login_token(raw)
        if _already_redeemed_by_this_session(request, claims):
            return LoginOutcome(Reason.ALREADY_LOGGED_IN)
        if _switches_user_from_another_site(request, claims):
            _hold_for_confirmation(request, claims)
            audit.login_held(user_id=claims.user_id, jti=claims.jti, transport=transport)
            return LoginOutcome(Reason.CONFIRMATION_REQUIRED)
        user = _log_in(request, claims)
    except TokenRejected as rejected:
        ended = _end_session_of_another_user(request, rejected)
        audit.login_refused(
            reason=rejected.reason, transport=transport, user_id=rejected.user_id, session_ended=ended
        )
        return LoginOutcome(rejected.reason, session_ended=ended)
    audit.login_succeeded(user_id=user.pk, jti=claims.jti, transport=transport)
    return LoginOutcome(Reason.LOGGED_IN)


def pending_login(request: HttpRequest) -> PendingLogin | None:
    """The switch this browser was asked to confirm, if it is still valid."""
    pending = request.session.get(SESSION_PENDING_KEY)
    current = getattr(request, "user", None)
    if not isinstance(pending, dict) or current is None or not current.is_authenticated:
        return None
    until, user_id, jti = pending.get("until"), pending.get("user_id"), pending.get("jti")
    if type(until) is not int or until < time.time() or type(user_id) is not int or not isinstance(jti, str):
        return None
    user = get_user_model()._default_manager.filter(pk=user_id).first()
    if user is None or refusal_reason(user) is not None:
        return None
    return PendingLogin(current_user=current, user=user, jti=jti)


def confirm_pending_login(request: HttpRequest) -> LoginOutcome:
    """The person confirmed the switch: log the held user in (the token is already spent)."""
    pending = pending_login(request)
    request.session.pop(SESSION_PENDING_KEY, None)
    if pending is None:
        audit.login_refused(reason=Reason.EXPIRED, transport="confirmation")
        return LoginOutcome(Reason.EXPIRED)
    try:
        with _previous_session_restored_on_database_error(request, pending.user.pk), transaction.atomic():
            _start_session(request, pending.user, pending.jti)
    except TokenRejected as rejected:
        audit.login_refused(reason=rejected.reason, transport="confirmation", user_id=rejected.user_id)
        return LoginOutcome(rejected.reason)
    audit.login_succeeded(user_id=pending.user.pk, jti=pending.jti, transport="confirmation")
    return LoginOutcome(Reason.LOGGED_IN)


def decline_pending_login(request: HttpRequest) -> None:
    """The person stays who they are; the held (already spent) token is forgotten."""
    pending = pending_login(request)
    request.session.pop(SESSION_PENDING_KEY, None)
    if pending is not None:
        audit.login_declined(user_id=pending.user.pk)


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


def _switches_user_from_another_site(request: HttpRequest, claims: LoginClaims) -> bool:
    """A different user is logged in and the request came neither from this site nor a portal."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or user.pk == claims.user_id:
        return False
    if request.headers.get("Sec-Fetch-Site", "").lower() in SAME_SITE_FETCHES:
        return False
    origin = request_origin(request)  # a navigation carries no Origin: this is the Referer's
    return origin is None or not is_portal_origin(request, origin)


def _hold_for_confirmation(request: HttpRequest, claims: LoginClaims) -> None:
    """Redeem now (the link is spent whatever the answer) and remember whom it names."""
    try:
        with transaction.atomic():
            user = claim_user(claims)
    except DatabaseError as error:
        raise _database_unavailable(error, claims.user_id) from error
    until = min(claims.expires_at.timestamp(), time.time() + PENDING_SECONDS)
    request.session[SESSION_PENDING_KEY] = {"user_id": user.pk, "jti": claims.jti, "until": int(until)}


def _log_in(request: HttpRequest, claims: LoginClaims) -> Any:
    """Redeem and log in within one transaction; on a database error undo both."""
    with _previous_session_restored_on_database_error(request, claims.user_id), transaction.atomic():
        user = claim_user(claims)
        _start_session(request, user, claims.jti)
    return user


def _start_session(request: HttpRequest, user: Any, jti: str) -> None:
    """Django's login() cycles the session key, or flushes another user's session."""
    _ensure_active_organization(user)
    auth.login(request, user, backend=BACKEND_PATH)
    request.session[SESSION_LAST_LOGIN_KEY] = time.time()
    request.session[SESSION_JTI_KEY] = jti


@contextmanager
def _previous_session_restored_on_database_error(request: HttpRequest, user_id: int) -> Iterator[None]:
    """If the database fails, put the session and the request's user back as they were."""
    previous_user = getattr(request, "user", None)
    previous_data = dict(request.session.items())
    try:
        yield
    except DatabaseError as error:
        request.session.clear()
        request.session.update(previous_data)
        if previous_user is not None:
            request.user = previous_user
        raise _database_unavailable(error, user_id) from error


def _end_session_of_another_user(request: HttpRequest, rejected: TokenRejected) -> bool:
    """End the session when an authentic token for someone else could not be honoured."""
    user = getattr(request, "user", None)
    if not rejected.authentic or user is None or not user.is_authenticated or user.pk == rejected.user_id:
        return False
    auth.logout(request)
    return True


def _database_unavailable(error: DatabaseError, user_id: int) -> TokenRejected:
    logger.warning("sso login: database unavailable (%s)", type(error).__name__)
    return TokenRejected(Reason.DATABASE_UNAVAILABLE, user_id, authentic=True)


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
