"""Create and verify login tokens: short-lived HS256 JWTs for one purpose only.

Verification fails closed: any doubt raises TokenRejected with a reason, and the
reason is all that leaves this module (no part of the token, no PyJWT message).
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import jwt

from ..audit import fingerprint
from ..conf import sso_settings
from ..errors import Reason, TokenRejected
from ..login_tokens import TOKEN_API_ALGORITHM, LoginClaims, LoginTokenKind
from ..signed_tokens import DECODE_ERRORS, refusal, unverified_header
from .keys import signing_key, verification_keys

ISSUER = "label-studio-sso"
AUDIENCE = "label-studio-sso:login"
ALGORITHM = TOKEN_API_ALGORITHM
MAX_LIFETIME = 86400  # the largest SSO_TOKEN_EXPIRY allowed

_JTI = re.compile(r"[A-Za-z0-9_-]{16,64}")
_ALLOWED_HEADER = frozenset({"alg", "typ", "kid"})


@dataclass(frozen=True)
class IssuedToken:
    """A freshly signed login token and what the API tells its caller about it."""

    token: str
    expires_in: int
    jti: str

    def __repr__(self) -> str:  # keep the token out of reprs and tracebacks
        return f"IssuedToken(jti_fingerprint={fingerprint(self.jti)!r}, expires_in={self.expires_in})"


def issue_login_token(user_id: int, email: str) -> IssuedToken:
    """Sign a login token for one user, valid for SSO_TOKEN_EXPIRY seconds."""
    now = int(time.time())
    lifetime = sso_settings.SSO_TOKEN_EXPIRY
    jti = secrets.token_urlsafe(24)
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": str(user_id),
        sso_settings.JWT_SSO_NATIVE_USER_ID_CLAIM: user_id,
        "email": email,
        "iat": now,
        "nbf": now,
        "exp": now + lifetime,
        "jti": jti,
    }
    key = signing_key()
    token = jwt.encode(claims, key.secret, algorithm=ALGORITHM, headers={"kid": key.kid})
    return IssuedToken(token=token, expires_in=lifetime, jti=jti)


def verify_own_token(raw: str) -> LoginClaims:
    """The claims of a valid login token this instance signed, or TokenRejected."""
    key = _key_for(raw)
    claims = _decode(raw, key)
    return _login_claims(claims)


OWN_TOKENS = LoginTokenKind("token API", takes=lambda algorithm: True, verify=verify_own_token)


def _key_for(raw: str) -> bytes:
    header = unverified_header(raw)
    if header.get("alg") != ALGORITHM:
        raise TokenRejected(Reason.ALGORITHM)
    if not set(header) <= _ALLOWED_HEADER or header.get("typ", "JWT") != "JWT":
        raise TokenRejected(Reason.BAD_HEADER)
    kid = header.get("kid")
    if not isinstance(kid, str):
        raise TokenRejected(Reason.BAD_HEADER)
    key = verification_keys().get(kid)
    if key is None:
        raise TokenRejected(Reason.UNKNOWN_KEY)
    return key.secret


def _decode(raw: str, secret: bytes) -> dict[str, Any]:
    user_id_claim = sso_settings.JWT_SSO_NATIVE_USER_ID_CLAIM
    try:
        return jwt.decode(
            raw,
            secret,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=ISSUER,
            leeway=sso_settings.SSO_CLOCK_SKEW,
            options={
                "require": ["iss", "aud", "sub", "email", "iat", "nbf", "exp", "jti", user_id_claim],
                "strict_aud": True,
            },
        )
    except DECODE_ERRORS as error:
        reason, authentic = refusal(error, raw, secret, ALGORITHM)
        user_id = _user_id_of_authentic(raw, secret) if authentic else None
        raise TokenRejected(reason, user_id, authentic=authentic) from error


def _user_id_of_authentic(raw: str, secret: bytes) -> int | None:
    """The user id claim of a token whose signature verified but whose claims did not."""
    try:
        claims = jwt.decode(
            raw,
            secret,
            algorithms=[ALGORITHM],
            options={"verify_exp": False, "verify_nbf": False, "verify_iat": False, "verify_aud": False,
                     "verify_iss": False, "require": []},
        )  # fmt: skip
    except DECODE_ERRORS:
        return None
    return _int_or_none(claims.get(sso_settings.JWT_SSO_NATIVE_USER_ID_CLAIM))


def _int_or_none(value: Any) -> int | None:
    return value if type(value) is int else None


def _login_claims(claims: dict[str, Any]) -> LoginClaims:
    user_id = claims[sso_settings.JWT_SSO_NATIVE_USER_ID_CLAIM]
    email, jti, sub = claims["email"], claims["jti"], claims["sub"]
    iat, exp = claims["iat"], claims["exp"]
    if (
        type(user_id) is not int
        or user_id < 1
        or sub != str(user_id)
        or not isinstance(email, str)
        or not 0 < len(email) <= 254
        or not isinstance(jti, str)
        or not _JTI.fullmatch(jti)
        or type(iat) is not int
        or type(exp) is not int
        or type(claims["nbf"]) is not int
    ):
        raise TokenRejected(Reason.INVALID_CLAIM, _int_or_none(user_id), authentic=True)
    if exp - iat > MAX_LIFETIME:
        raise TokenRejected(Reason.LIFETIME_TOO_LONG, user_id, authentic=True)
    expires_at = datetime.fromtimestamp(exp + sso_settings.SSO_CLOCK_SKEW, tz=timezone.utc)
    return LoginClaims(user_id=user_id, email=email, jti=jti, expires_at=expires_at)
