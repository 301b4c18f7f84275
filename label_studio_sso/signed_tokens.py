"""Verify a JWT signed elsewhere with a public key: a portal's login token, a gateway's assertion.

The checks every such token gets, fail-closed, in order: size and shape, no member named
twice, the header's ``alg`` among the pinned asymmetric algorithms (never ``none``, never
HMAC: a public key is not a secret), the key by ``kid``, the key's type fitting the
algorithm, then PyJWT's signature and claim checks. Only a Reason leaves this module.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from typing import Any

import jwt
from jwt import PyJWK

from . import strict_json
from .algorithms import ASYMMETRIC_ALGORITHMS
from .errors import Reason, TokenRejected
from .jwks import KeySource

MAX_TOKEN_BYTES = 8192  # a gateway's assertion with groups is larger than our own login tokens
_KEY_TYPE_OF = {"RS": "RSA", "PS": "RSA", "ES": "EC", "Ed": "OKP"}
_COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
_ALLOWED_HEADER = frozenset({"alg", "typ", "kid", "cty"})

REASON_BY_ERROR: tuple[tuple[type[Exception], str], ...] = (
    (jwt.InvalidSignatureError, Reason.BAD_SIGNATURE),
    (jwt.ExpiredSignatureError, Reason.EXPIRED),
    (jwt.ImmatureSignatureError, Reason.NOT_YET_VALID),
    (jwt.InvalidAudienceError, Reason.WRONG_AUDIENCE),
    (jwt.InvalidIssuerError, Reason.WRONG_ISSUER),
    (jwt.MissingRequiredClaimError, Reason.MISSING_CLAIM),
    (jwt.InvalidIssuedAtError, Reason.INVALID_CLAIM),
    (jwt.DecodeError, Reason.MALFORMED),
)
# PyJWT checks the signature first; these errors come after it, about an authentic token.
AFTER_SIGNATURE: tuple[type[Exception], ...] = (
    jwt.ExpiredSignatureError,
    jwt.ImmatureSignatureError,
    jwt.InvalidAudienceError,
    jwt.InvalidIssuerError,
    jwt.MissingRequiredClaimError,
    jwt.InvalidIssuedAtError,
)


def reason_for(error: Exception) -> str:
    """The refusal reason for a PyJWT error."""
    for error_type, reason in REASON_BY_ERROR:
        if isinstance(error, error_type):
            return reason
    return Reason.INVALID_CLAIM


def refusal(error: Exception, raw: str, key: Any, algorithm: str) -> tuple[str, bool]:
    """(reason, authentic) for an error ``jwt.decode`` raised, the same on every PyJWT release.

    Label Studio 1.20 comes with PyJWT 2.15, 1.23 with 2.13, and they fail differently: 2.14 and
    later raise DecodeError for a claim of the wrong type (``"exp": [..]``) where 2.13 raised
    TypeError after the signature check, and call a signature segment of impossible length
    undecodable where 2.13 compared it and found it wrong. Verifying the signature alone
    tells the cases apart.
    """
    if isinstance(error, AFTER_SIGNATURE):
        return reason_for(error), True
    if isinstance(error, jwt.InvalidSignatureError) or not isinstance(error, _UNCLEAR):
        return reason_for(error), False
    try:
        jwt.api_jws.decode_complete(raw, key, algorithms=[algorithm])
    except jwt.PyJWTError:
        return (Reason.BAD_SIGNATURE if _signed_parts_readable(raw) else Reason.MALFORMED), False
    if isinstance(error, jwt.DecodeError) and not isinstance(_segment_json(raw.split(".")[1]), dict):
        return Reason.MALFORMED, False  # a signed payload that is not a JSON object
    return Reason.INVALID_CLAIM, True  # authentic, with a claim of the wrong type or range


_TYPE_ERRORS = (OverflowError, TypeError, ValueError)  # e.g. "exp": Infinity or a list (PyJWT 2.13)
_UNCLEAR = (jwt.DecodeError, *_TYPE_ERRORS)  # before or after the signature check, depending on PyJWT
# What ``jwt.decode`` raises for a token it refuses, on every PyJWT release Label Studio ships.
DECODE_ERRORS = (jwt.PyJWTError, *_TYPE_ERRORS)


def _signed_parts_readable(raw: str) -> bool:
    """Header and payload decode as JSON: what failed was the signature."""
    return all(_segment_json(segment) is not None for segment in raw.split(".")[:2])


def _segment_json(segment: str) -> Any:
    try:
        return strict_json.loads(jwt.utils.base64url_decode(segment))
    except (ValueError, RecursionError):  # DuplicateMember is a ValueError
        return None


def check_shape(raw: Any, max_bytes: int) -> None:
    """TokenRejected unless ``raw`` is a compact JWS of at most ``max_bytes`` whose header and
    payload name no member twice: what every token gets before any key is looked at."""
    if not isinstance(raw, str) or not raw:
        raise TokenRejected(Reason.MISSING)
    if len(raw) > max_bytes:
        raise TokenRejected(Reason.TOO_LARGE)
    if not _COMPACT_JWS.fullmatch(raw):
        raise TokenRejected(Reason.MALFORMED)
    refuse_duplicate_members(raw)


def refuse_duplicate_members(raw: str) -> None:
    """A header or payload naming a member twice is refused, whatever the signature."""
    for segment in raw.split(".")[:2]:
        try:
            strict_json.loads(jwt.utils.base64url_decode(segment))
        except strict_json.DuplicateMember as error:
            raise TokenRejected(Reason.MALFORMED) from error
        except (ValueError, RecursionError):
            pass  # not JSON at all: PyJWT refuses it next, with its own reason


def verify_signed(
    raw: Any,
    keys: KeySource,
    *,
    algorithms: Collection[str],
    audience: str,
    issuer: str,
    require: Sequence[str],
    leeway: int,
) -> dict[str, Any]:
    """The claims of a token signed by one of ``keys``, or TokenRejected with a reason."""
    check_shape(raw, MAX_TOKEN_BYTES)
    algorithm, key = _algorithm_and_key(raw, keys, algorithms)
    try:
        return jwt.decode(
            raw,
            key.key,
            algorithms=[algorithm],
            audience=audience,
            issuer=issuer,
            leeway=leeway,
            options={"require": ["iss", "aud", *require], "strict_aud": True},
        )
    except DECODE_ERRORS as error:
        reason, authentic = refusal(error, raw, key.key, algorithm)
        email = _email_of_authentic(raw) if authentic else None
        raise TokenRejected(reason, authentic=authentic, email=email) from None


def _email_of_authentic(raw: str) -> str | None:
    """The ``email`` of a token whose signature verified (PyJWT checks it before the claims)."""
    try:
        email = jwt.decode(raw, options={"verify_signature": False}).get("email")
    except DECODE_ERRORS:
        return None
    return email if isinstance(email, str) else None


def unverified_header(raw: str) -> dict[str, Any]:
    """The header of a compact JWS, as PyJWT reads and checks it, from its first segment alone.

    PyJWT 2.14 and later decode the signature segment too when asked for the header, so a
    token with a mangled signature would be "malformed" on one release and "bad signature"
    on another: PyJWT is given the header segment with empty payload and signature.
    """
    try:
        return jwt.get_unverified_header(raw.split(".")[0] + "..")
    except jwt.PyJWTError:
        raise TokenRejected(Reason.MALFORMED) from None


def _algorithm_and_key(raw: str, keys: KeySource, algorithms: Collection[str]) -> tuple[str, PyJWK]:
    header = unverified_header(raw)
    algorithm = header.get("alg")
    if (
        not isinstance(algorithm, str)
        or algorithm not in algorithms
        or algorithm not in ASYMMETRIC_ALGORITHMS
    ):
        raise TokenRejected(Reason.ALGORITHM)
    kid = header.get("kid")
    if not set(header) <= _ALLOWED_HEADER or not (
        kid is None or (isinstance(kid, str) and 0 < len(kid) <= 200)
    ):
        raise TokenRejected(Reason.BAD_HEADER)
    key = keys.key_for(kid)
    declared = key._jwk_data.get("alg")  # a key that names its algorithm is used for that one only
    if key._jwk_data.get("kty") != _KEY_TYPE_OF[algorithm[:2]] or (declared and declared != algorithm):
        raise TokenRejected(Reason.ALGORITHM)
    return algorithm, key
