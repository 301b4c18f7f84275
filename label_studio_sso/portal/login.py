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

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import DatabaseError, transaction
from django.http import HttpRequest

from .. import audit
from ..accounts import refusal_reason, same_email, user_named
from ..conf import sso_settings
from ..errors import Reason, TokenRejected, UserRefused
from ..login_tokens import LoginClaims, verify_login_token
from ..origins import is_portal_origin, request_origin
from ..provisioning import provision
from ..sessions import end_session, logged_in_user, restored_on_database_error, start_session
from ..transactions import in_one_transaction
from .redemption import redeem

SESSION_JTI_KEY = "_sso_jti"
SESSION_PENDING_KEY = "_sso_pending_login"
PENDING_SECONDS = 300  # how long a held switch waits for its confirmation at most
SAME_SITE_FETCHES = frozenset({"same-origin", "same-site"})
PORTAL_SIGNED_VIA = "issuer"  # the audit's name (kept) for users provisioned from portal-signed tokens


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


def claim_user(claims: LoginClaims) -> Any:
    """Look up (or, for a portal-signed token, provision) the token's user and redeem the
    token; call inside a transaction."""
    try:
        user = user_named(claims.user_id, claims.email) if claims.identity is None else _provisioned(claims)
    except UserRefused as refused:
        raise TokenRejected(refused.reason, claims.user_id, authentic=True, email=claims.email) from None
    redeem(claims, user.pk)
    return user


def _provisioned(claims: LoginClaims) -> Any:
    """The user a portal-signed token names by email: found, or created (SSO_CREATE_USERS); a
    superuser only with SSO_ISSUER_SUPERUSERS (a portal's key would otherwise be root)."""
    assert claims.identity is not None
    return provision(claims.identity, via=PORTAL_SIGNED_VIA, superusers=sso_settings.SSO_ISSUER_SUPERUSERS)[0]


def names_user(claims: LoginClaims, user: Any) -> bool:
    """Whether the token names ``user``: by id (our tokens) or by email (portal-signed ones)."""
    if claims.user_id is not None:
        return user.pk == claims.user_id
    return same_email(user.email, claims.email)


def authenticate_login_token(raw: Any) -> tuple[Any, LoginClaims]:
    """Verify a token and redeem it for its user, without a session; raise TokenRejected."""
    claims = verify_login_token(raw)
    with _database_errors_refuse(claims.user_id):
        return in_one_transaction(lambda: claim_user(claims)), claims


def log_in_with_token(request: HttpRequest, raw: Any, transport: str) -> LoginOutcome:
    """Log the request's browser in as the token's user, hold the switch, or refuse."""
    try:
        claims = verify_login_token(raw)
        if _already_redeemed_by_this_session(request, claims):
            return LoginOutcome(Reason.ALREADY_LOGGED_IN)
        if _switches_user_from_another_site(request, claims):
            held = _hold_for_confirmation(request, claims)
            audit.login_held(user_id=held.pk, jti=claims.jti, transport=transport)
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
    current = logged_in_user(request)
    if not isinstance(pending, dict) or current is None:
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
        with (
            _database_errors_refuse(pending.user.pk),
            restored_on_database_error(request),
            transaction.atomic(),
        ):
            start_session(request, pending.user, **{SESSION_JTI_KEY: pending.jti})
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
    user = logged_in_user(request)
    return (
        session is not None
        and user is not None
        and names_user(claims, user)
        and session.get(SESSION_JTI_KEY) == claims.jti
    )


def _switches_user_from_another_site(request: HttpRequest, claims: LoginClaims) -> bool:
    """A different user is logged in and the request came neither from this site nor a portal."""
    user = logged_in_user(request)
    if user is None or names_user(claims, user):
        return False
    if request.headers.get("Sec-Fetch-Site", "").lower() in SAME_SITE_FETCHES:
        return False
    origin = request_origin(request)  # a navigation carries no Origin: this is the Referer's
    return origin is None or not is_portal_origin(request, origin)


def _hold_for_confirmation(request: HttpRequest, claims: LoginClaims) -> Any:
    """Redeem now (the link is spent whatever the answer) and remember whom it names."""
    with _database_errors_refuse(claims.user_id):
        user = in_one_transaction(lambda: claim_user(claims))
    until = min(claims.expires_at.timestamp(), time.time() + PENDING_SECONDS)
    request.session[SESSION_PENDING_KEY] = {"user_id": user.pk, "jti": claims.jti, "until": int(until)}
    return user


def _log_in(request: HttpRequest, claims: LoginClaims) -> Any:
    """Redeem and log in within one transaction; on a database error undo both."""

    def log_in() -> Any:
        user = claim_user(claims)
        start_session(request, user, **{SESSION_JTI_KEY: claims.jti})
        return user

    with _database_errors_refuse(claims.user_id), restored_on_database_error(request):
        return in_one_transaction(log_in)


def _end_session_of_another_user(request: HttpRequest, rejected: TokenRejected) -> bool:
    """End the session when an authentic token for someone else could not be honoured."""
    user = logged_in_user(request)
    if not rejected.authentic or user is None:
        return False
    if user.pk == rejected.user_id or (rejected.email is not None and same_email(user.email, rejected.email)):
        return False
    end_session(request)
    return True


@contextmanager
def _database_errors_refuse(user_id: int) -> Iterator[None]:
    """Turn a database failure into the refusal ``database-unavailable`` (audited by the caller)."""
    try:
        yield
    except DatabaseError as error:
        raise TokenRejected(Reason.DATABASE_UNAVAILABLE, user_id, authentic=True) from error
