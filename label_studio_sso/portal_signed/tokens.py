"""Verify a login token the portal signed with its own key, and say whom it names.

The same rules as our own login tokens: ``iss`` and ``aud`` as configured, ``exp``, ``iat``
and ``jti`` required, a lifetime of at most SSO_TOKEN_EXPIRY, spent once (the ``jti``, on
every replica). The user is named by ``email`` and found or created through provisioning,
with ``given_name``, ``family_name`` and ``groups`` when the token carries them.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from typing import Any

from ..claims import ClaimsRefused, identity_of
from ..conf import sso_settings
from ..errors import Reason, TokenRejected
from ..jwks import KeySource, StaticKeys, keys_at
from ..login_tokens import TOKEN_API_ALGORITHM, LoginClaims, LoginTokenKind
from ..signed_tokens import verify_signed

REQUIRED_CLAIMS = ("exp", "iat", "jti", "email")
MAX_JTI_LENGTH = 200


def is_enabled() -> bool:
    """Whether portal-signed tokens are accepted (a key source is configured)."""
    return bool(sso_settings.SSO_ISSUER_JWKS_URL or sso_settings.SSO_ISSUER_PUBLIC_KEYS)


def portal_keys() -> KeySource:
    """The portal's public keys: its JWKS URL (fetched, cached) or the configured keys."""
    url = sso_settings.SSO_ISSUER_JWKS_URL
    if url:
        return keys_at(url, min_refresh=sso_settings.SSO_JWKS_MIN_REFRESH)
    return StaticKeys(sso_settings.SSO_ISSUER_PUBLIC_KEYS or {})


def verify_portal_signed_token(raw: Any) -> LoginClaims:
    """The claims of a valid portal-signed token, or TokenRejected with a reason."""
    claims = verify_signed(
        raw,
        portal_keys(),
        algorithms=sso_settings.SSO_ISSUER_ALGORITHMS,
        audience=sso_settings.SSO_ISSUER_AUDIENCE,
        issuer=sso_settings.SSO_ISSUER,
        require=REQUIRED_CLAIMS,
        leeway=sso_settings.SSO_CLOCK_SKEW,
    )
    jti, iat, exp = claims["jti"], claims["iat"], claims["exp"]
    if (
        not isinstance(jti, str)
        or not 16 <= len(jti) <= MAX_JTI_LENGTH
        or not jti.isascii()
        or not jti.isprintable()
        or type(iat) is not int
        or type(exp) is not int
    ):
        raise TokenRejected(Reason.INVALID_CLAIM, authentic=True, email=_text(claims.get("email")))
    if exp - iat > sso_settings.SSO_TOKEN_EXPIRY:
        raise TokenRejected(Reason.LIFETIME_TOO_LONG, authentic=True, email=_text(claims.get("email")))
    try:
        identity = identity_of(claims)
    except ClaimsRefused as refused:
        raise TokenRejected(refused.reason, authentic=True, email=_text(claims.get("email"))) from None
    return LoginClaims(
        user_id=None,
        email=identity.email,
        jti=spent_key(jti),
        expires_at=datetime.fromtimestamp(exp + sso_settings.SSO_CLOCK_SKEW, tz=timezone.utc),
        identity=identity,
    )


PORTAL_SIGNED_TOKENS = LoginTokenKind(
    "portal-signed",
    takes=lambda algorithm: algorithm != TOKEN_API_ALGORITHM and is_enabled(),
    verify=verify_portal_signed_token,
)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def spent_key(jti: str) -> str:
    """The key a portal's ``jti`` is spent under: apart from ours, and short whatever its length."""
    return "issuer:" + hashlib.sha256(jti.encode("ascii")).hexdigest()[:57]
