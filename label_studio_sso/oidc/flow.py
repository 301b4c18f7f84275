"""The sign-in itself: send the browser to the provider, then turn its answer into a user.

``start`` builds the authorization request (Authlib makes state, nonce and the PKCE
verifier) and keeps what the callback needs in the browser's session. ``finish`` checks
the callback's state against that session and spends it once on every replica, lets
Authlib exchange the code and verify the ID token under our policy (``provider``), reads
the identity (``identity``) and finds, creates or refreshes the user through the shared
rules (``provisioning``), all in one transaction. Every failure is a ``LoginRefused``
with a reason; nothing about the provider's answer can become a 500.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import requests
from authlib.integrations.base_client import OAuthError
from django.conf import settings
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from joserfc import errors as jose_errors

from ..conf import sso_settings
from ..errors import Reason, Refused, UserRefused
from ..models import OidcSession
from ..origins import public_origin
from ..provisioning import provision
from ..single_use import spend_once
from ..transactions import in_one_transaction
from .identity import ClaimsRefused, identity_from_claims, needs_userinfo
from .provider import STATE_LIFETIME_SECONDS, ProviderUnavailable, jose_refusal_reason, provider_client

VIA = "oidc"
MAX_PENDING_SIGN_INS = 5  # sign-ins started in one browser and not finished yet
_STATE_PREFIX = "_state_sso_oidc_"  # how Authlib's Django integration names its session keys
_PROTOCOL_FAILURES = (requests.RequestException, ProviderUnavailable, ValueError, KeyError, TypeError)


class LoginRefused(Refused):
    """The sign-in did not end in a login; ``reason`` is a Reason value."""


@dataclass(frozen=True)
class SignedIn:
    """A finished sign-in: the user, whether they were just created, and the raw ID token
    (kept in the session as the ``id_token_hint`` of a later RP-initiated logout)."""

    user: Any
    created: bool
    id_token: str


def callback_url(request: HttpRequest) -> str:
    """The redirect URI registered at the provider: LABEL_STUDIO_HOST's (else this request's)."""
    return public_origin(request) + reverse("label_studio_sso_oidc:callback")


def start(request: HttpRequest, next_path: str) -> HttpResponseRedirect:
    """The redirect to the provider's authorization endpoint; ProviderUnavailable if it is down."""
    client = provider_client()
    redirect_uri = callback_url(request)
    try:
        request_data = client.create_authorization_url(redirect_uri)
    except _PROTOCOL_FAILURES as error:
        raise ProviderUnavailable(type(error).__name__) from None
    _forget_oldest_pending(request)
    client.save_authorize_data(
        request,
        redirect_uri=redirect_uri,
        state=request_data["state"],
        nonce=request_data["nonce"],
        code_verifier=request_data["code_verifier"],
        next=next_path,
    )
    return HttpResponseRedirect(request_data["url"])


def _forget_oldest_pending(request: HttpRequest) -> None:
    """Keep the session (a signed cookie) small however often the button is pressed."""
    pending = sorted(
        [key for key in list(request.session.keys()) if key.startswith(_STATE_PREFIX)],
        key=lambda key: request.session[key].get("exp", 0) if isinstance(request.session[key], dict) else 0,
    )
    for key in pending[: max(0, len(pending) - MAX_PENDING_SIGN_INS + 1)]:
        del request.session[key]


def pending_next(request: HttpRequest) -> str | None:
    """The landing path of the sign-in this callback answers, if the state is ours."""
    data = _state_data(request)
    return data.get("next") if data else None


def _state_data(request: HttpRequest) -> dict[str, Any] | None:
    state = request.GET.get("state")
    if not state or len(state) > 200:
        return None
    data = provider_client().framework.get_state_data(request.session, state)
    return data if isinstance(data, dict) else None


def finish(request: HttpRequest) -> SignedIn:
    """The user the provider's answer names, found, created or refreshed; else LoginRefused."""
    if request.GET.get("error"):
        raise LoginRefused(Reason.PROVIDER_REFUSED)  # the user cancelled, or the provider said no
    if _state_data(request) is None:
        raise LoginRefused(Reason.STATE_MISMATCH)
    _spend_state(request.GET["state"])
    claims, id_token = _verified_claims(request)
    try:
        identity = identity_from_claims(claims)

        def sign_in() -> tuple[Any, bool]:
            user, created = provision(identity, via=VIA)
            _remember_provider_session(claims, user)
            return user, created

        user, created = in_one_transaction(sign_in)
    except (ClaimsRefused, UserRefused) as refused:
        raise LoginRefused(refused.reason) from None
    return SignedIn(user, created, id_token)


def _spend_state(state: str) -> None:
    digest = hashlib.sha256(state.encode("utf-8")).hexdigest()
    expires_at = timezone.now() + timedelta(seconds=STATE_LIFETIME_SECONDS)
    if not spend_once(f"oidc-state:{digest[:53]}", user_id=0, expires_at=expires_at):
        raise LoginRefused(Reason.REPLAYED)


def _verified_claims(request: HttpRequest) -> tuple[dict[str, Any], str]:
    """The ID token's claims (with userinfo's where the ID token lacks them) and the raw token."""
    client = provider_client()
    try:
        token = client.authorize_access_token(
            request,
            claims_options={
                "iss": {"essential": True, "value": client.issuer},
                "aud": {"essential": True, "value": client.client_id},
            },
            leeway=sso_settings.SSO_CLOCK_SKEW,
        )
        if not isinstance(token, dict) or "userinfo" not in token:
            raise LoginRefused(Reason.MISSING_CLAIM)  # no ID token: this is OAuth, not OpenID Connect
        claims = dict(token["userinfo"])
        if needs_userinfo(claims) and client.load_server_metadata().get("userinfo_endpoint"):
            claims = _with_userinfo(client, token, claims)
    except OAuthError:
        raise LoginRefused(Reason.PROVIDER_REFUSED) from None  # e.g. a code for another client
    except jose_errors.JoseError as error:
        raise LoginRefused(jose_refusal_reason(error)) from None
    except _PROTOCOL_FAILURES:
        raise LoginRefused(Reason.PROVIDER_UNAVAILABLE) from None
    return claims, token["id_token"]


def _with_userinfo(client: Any, token: dict[str, Any], claims: dict[str, Any]) -> dict[str, Any]:
    """Claims the ID token lacks, from the userinfo endpoint; its ``sub`` must be the ID token's."""
    extra = client.userinfo(token=token)
    if not isinstance(extra, dict) or extra.get("sub") != claims.get("sub"):
        raise LoginRefused(Reason.INVALID_CLAIM)
    return {**extra, **claims}


def _remember_provider_session(claims: dict[str, Any], user: Any) -> None:
    """A row the provider's back-channel logout can find by ``sid`` or ``sub``; old rows go."""
    subject, sid = claims.get("sub"), claims.get("sid")
    if not isinstance(subject, str) or not 0 < len(subject) <= 255:
        raise ClaimsRefused(Reason.INVALID_CLAIM)
    if not isinstance(sid, str) or len(sid) > 255:
        sid = ""
    now = timezone.now()
    OidcSession.objects.create(
        issuer=sso_settings.SSO_OIDC_ISSUER, subject=subject, sid=sid, user=user, created_at=now
    )
    oldest = now - timedelta(seconds=settings.SESSION_COOKIE_AGE)
    stale = OidcSession.objects.filter(created_at__lt=oldest).order_by().values("pk")[:10]
    OidcSession.objects.filter(pk__in=stale).delete()
