"""TrustedGatewayMiddleware: the gateway's identity is authoritative on each request it forwards.

From a peer in SSO_TRUSTED_PROXIES: an asserted identity that matches the session's user
(same email, names and groups as when the session began) costs nothing more; a different
one logs that user in, found or created through provisioning, replacing the session (the
gateway switched users); no identity makes the request anonymous. From any other peer the
identity headers are ignored, and logged. What the gateway sends that we cannot accept is
refused with a 4xx naming the reason, and the browser's session ends with it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, HttpResponseBase

from .. import audit
from ..accounts import same_email
from ..claims import ClaimsRefused
from ..conf import sso_settings
from ..errors import (
    LOGIN_PAGE_SENTENCES,
    ApiError,
    ErrorCode,
    Reason,
    TokenRejected,
    UserRefused,
    error_response,
)
from ..http import mark_token_response
from ..provisioning import Identity, provision
from ..sessions import end_session, logged_in_user, restored_on_database_error, start_session
from ..transactions import in_one_transaction
from .identity import asserted_identity, identity_headers, is_enabled
from .peers import client_address, peer_is_trusted

VIA = "gateway"
# Label Studio's health check, which the kubelet and Docker's HEALTHCHECK call directly.
HEALTH_PATHS = frozenset({"/health", "/health/"})
SESSION_IDENTITY_KEY = "_sso_gateway_identity"  # a digest of the identity the session began with


class TrustedGatewayMiddleware:
    """Log the gateway's user in (or keep them logged in). Place after
    Django's AuthenticationMiddleware."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if (
            sso_settings.SSO_PROXY_REQUIRED
            and not peer_is_trusted(request)
            and request.path not in HEALTH_PATHS
        ):
            return _bypass_refused(request)  # before is_enabled(): without a gateway, nobody (E018)
        if not is_enabled():
            return self.get_response(request)
        if not peer_is_trusted(request):
            sent = [name for name in identity_headers() if name in request.headers]
            if sent:
                audit.gateway_headers_ignored(peer=client_address(request), headers=sent)
            return self.get_response(request)
        try:
            identity = asserted_identity(request)
            if identity is None:
                _anonymous(request)
            else:
                _logged_in_as(request, identity)
        except (TokenRejected, ClaimsRefused, UserRefused) as refused:
            return _refused(request, refused)
        except DatabaseError:
            return _refused(request, UserRefused(Reason.DATABASE_UNAVAILABLE))
        return self.get_response(request)


def identity_digest(identity: Identity) -> str:
    """What the session remembers of the identity: a change in any part means a new login."""
    parts = [
        identity.email,
        identity.first_name or "",
        identity.last_name or "",
        *(identity.groups or ("-",)),
    ]
    return hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()[:32]


def _logged_in_as(request: HttpRequest, identity: Identity) -> None:
    digest = identity_digest(identity)
    user = logged_in_user(request)
    if (
        user is not None
        and request.session.get(SESSION_IDENTITY_KEY) == digest
        and same_email(user.email, identity.email)
    ):
        return  # steady state: the session already belongs to this identity

    def log_in() -> tuple[Any, bool]:
        user, created = provision(identity, via=VIA)
        start_session(request, user, **{SESSION_IDENTITY_KEY: digest})
        return user, created

    with restored_on_database_error(request):
        user, created = in_one_transaction(log_in)
    audit.provider_login_succeeded(user_id=user.pk, via=VIA, created=created)


def _bypass_refused(request: HttpRequest) -> HttpResponseBase:
    """403 for a request that did not come through the gateway: no session, token or password
    counts here, so signing out at the gateway ends access."""
    audit.gateway_bypass_refused(peer=client_address(request), path=request.path[:200])
    _anonymous(request)
    return error_response(ApiError(ErrorCode.GATEWAY_REQUIRED))


def _anonymous(request: HttpRequest) -> None:
    """No identity from the gateway: this request has no user, whatever its session says."""
    request.user = AnonymousUser()
    request.auser = _anonymous_user  # type: ignore[attr-defined]


async def _anonymous_user() -> AnonymousUser:
    return AnonymousUser()


_CODES: tuple[tuple[type[Exception], str], ...] = (
    (TokenRejected, ErrorCode.GATEWAY_ASSERTION_INVALID),
    (ClaimsRefused, ErrorCode.GATEWAY_IDENTITY_INVALID),
    (UserRefused, ErrorCode.GATEWAY_USER_REFUSED),
)


def _refused(request: HttpRequest, refused: Exception) -> HttpResponseBase:
    reason = getattr(refused, "reason", Reason.INVALID_CLAIM)
    session_ended = logged_in_user(request) is not None
    if session_ended:
        end_session(request)
    _anonymous(request)
    audit.login_refused(reason=reason, transport=VIA, session_ended=session_ended)
    if reason == Reason.DATABASE_UNAVAILABLE:
        error = ApiError(ErrorCode.DATABASE_UNAVAILABLE)
    else:
        code = next(code for kind, code in _CODES if isinstance(refused, kind))
        error = ApiError(code, LOGIN_PAGE_SENTENCES.get(reason))
    if request.path.startswith("/api/") or "text/html" not in request.headers.get("Accept", ""):
        response: HttpResponseBase = error_response(error)
    else:
        response = HttpResponse(
            f"<!doctype html><title>Label Studio</title><p>{error.sentence}</p>",
            status=error.status,
            content_type="text/html; charset=utf-8",
        )
    return mark_token_response(response, reason)
