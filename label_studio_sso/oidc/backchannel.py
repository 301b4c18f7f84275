"""``POST /sso/oidc/backchannel-logout/``: the provider says a user signed out there.

OpenID Connect Back-Channel Logout 1.0, section 2.6: the logout token is a JWT signed by
the provider with one of its keys (the same keys, the same pinned algorithms and the same
bounded refetch as ID tokens), for our client id, with ``iat``, ``exp``, ``jti``, the
back-channel ``events`` member, ``sub`` or ``sid``, and never a ``nonce``. Each ``jti`` is
accepted once on every replica. The users it names (through the logins recorded at sign-in)
have every session ended at once (``sessions.end_every_session``). Answers: 200, or 400
with an OAuth error body; never a 500.
"""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime
from typing import Any

import requests
from django.contrib.auth import get_user_model
from django.db import DatabaseError, transaction
from django.http import HttpRequest, HttpResponseBase, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from joserfc import errors as jose_errors
from joserfc import jwt

from .. import audit
from ..conf import sso_settings
from ..errors import ApiError, ErrorCode, Reason, Refused, oauth_error_response
from ..guards.body_limit import API_BODY_LIMIT
from ..models import OidcSession
from ..sessions import end_every_session
from ..single_use import spend_once
from .provider import ProviderUnavailable, is_enabled, jose_refusal_reason, provider_client

BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"
MAX_LOGOUT_TOKEN_LENGTH = 8192
MAX_RECORD_SECONDS = 86400  # a jti is remembered at most this long past now


class LogoutTokenRefused(Refused):
    """The logout token is not one we accept; ``reason`` is a Reason value."""


@csrf_exempt  # the provider's server calls this; the logout token is the credential
def backchannel_logout_view(request: HttpRequest) -> HttpResponseBase:
    """End the sessions of the users the provider's logout token names."""
    if not is_enabled():
        return _answer(404, "not_found", "OpenID Connect is not configured.")
    if request.method != "POST":
        response = _answer(405, "invalid_request", "Use POST.")
        response["Allow"] = "POST"
        return response
    raw = request.POST.get("logout_token", "")
    try:
        claims = verified_logout_claims(raw)
        with transaction.atomic():
            if not spend_once(_jti_key(claims), user_id=0, expires_at=_expiry(claims)):
                raise LogoutTokenRefused(Reason.REPLAYED)
            ended = end_sessions_named(claims)
    except LogoutTokenRefused as refused:
        audit.backchannel_logout_refused(reason=refused.reason)
        if refused.reason == Reason.PROVIDER_UNAVAILABLE:
            return _answer(503, "temporarily_unavailable", "The provider's keys could not be fetched.")
        return _answer(400, "invalid_request", "The logout token was refused.")
    except DatabaseError:
        audit.backchannel_logout_refused(reason=Reason.DATABASE_UNAVAILABLE)
        return _answer(503, "temporarily_unavailable", ApiError(ErrorCode.DATABASE_UNAVAILABLE).sentence)
    for user_id in ended:
        audit.sessions_ended(user_id=user_id, cause="oidc-backchannel-logout")
    return _answer(200)


backchannel_logout_view.body_limit = API_BODY_LIMIT  # type: ignore[attr-defined]  # refused unread


def verified_logout_claims(raw: str) -> dict[str, Any]:
    """The claims of a logout token that passes every check of section 2.6; else LogoutTokenRefused."""
    if not raw or len(raw) > MAX_LOGOUT_TOKEN_LENGTH:
        raise LogoutTokenRefused(Reason.MISSING if not raw else Reason.TOO_LARGE)
    client = provider_client()
    try:
        token = client.decode_signed(raw)
        jwt.JWTClaimsRegistry(
            leeway=sso_settings.SSO_CLOCK_SKEW,
            iss={"essential": True, "value": client.issuer},
            aud={"essential": True, "value": client.client_id},
            iat={"essential": True},
            exp={"essential": True},
            jti={"essential": True},
            events={"essential": True},
        ).validate(token.claims)
    except jose_errors.JoseError as error:
        raise LogoutTokenRefused(jose_refusal_reason(error)) from None
    except (requests.RequestException, ProviderUnavailable, ValueError, KeyError, TypeError):
        raise LogoutTokenRefused(Reason.PROVIDER_UNAVAILABLE) from None
    claims = token.claims
    events = claims.get("events")
    if not isinstance(events, dict) or not isinstance(events.get(BACKCHANNEL_EVENT), dict):
        raise LogoutTokenRefused(Reason.INVALID_CLAIM)
    if "nonce" in claims:  # a logout token must not be mistakable for an ID token
        raise LogoutTokenRefused(Reason.INVALID_CLAIM)
    if not isinstance(claims.get("jti"), str) or not all(
        isinstance(claims.get(name), str | None) for name in ("sub", "sid")
    ):
        raise LogoutTokenRefused(Reason.INVALID_CLAIM)
    if not claims.get("sub") and not claims.get("sid"):
        raise LogoutTokenRefused(Reason.MISSING_CLAIM)
    return claims


def end_sessions_named(claims: dict[str, Any]) -> list[int]:
    """End every session of the users whose recorded logins match ``sid`` and/or ``sub``."""
    logins = OidcSession.objects.filter(issuer=sso_settings.SSO_OIDC_ISSUER)
    if claims.get("sid"):
        logins = logins.filter(sid=claims["sid"])
    if claims.get("sub"):
        logins = logins.filter(subject=claims["sub"])
    user_ids = sorted(set(logins.values_list("user_id", flat=True)))
    for user in get_user_model()._default_manager.filter(pk__in=user_ids):
        end_every_session(user)
    return user_ids


def _jti_key(claims: dict[str, Any]) -> str:
    digest = hashlib.sha256(f"{claims['iss']}\n{claims['jti']}".encode()).hexdigest()
    return f"oidc-logout:{digest[:52]}"


def _expiry(claims: dict[str, Any]) -> datetime:
    """When the jti's record may go: once the token has expired (bounded, whatever ``exp`` says)."""
    latest = time.time() + MAX_RECORD_SECONDS
    return datetime.fromtimestamp(min(float(claims["exp"]), latest) + sso_settings.SSO_CLOCK_SKEW, tz=UTC)


def _answer(status: int, error: str | None = None, description: str = "") -> JsonResponse:
    if error is not None:
        return oauth_error_response(status, error, description)
    response = JsonResponse({}, status=status)
    response["Cache-Control"] = "no-store"
    return response
