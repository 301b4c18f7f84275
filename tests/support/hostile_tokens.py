"""A corpus of hostile login tokens, generated from a key the tests know (nothing stored).

Malformed tokens are assembled by hand on purpose: a JWT library refuses to produce most
of them (alg none, duplicated members, broken signatures), and that is the point.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

ISSUER = "label-studio-sso"
AUDIENCE = "label-studio-sso:login"
CLAIMS = ("iss", "aud", "sub", "user_id", "email", "iat", "nbf", "exp", "jti")


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _json(value: Any) -> bytes:
    return value if isinstance(value, bytes) else json.dumps(value, separators=(",", ":")).encode()


def assemble(
    header: Any, payload: Any, secret: bytes | None, digest: Callable[..., Any] = hashlib.sha256
) -> str:
    """header.payload.signature; ``secret=None`` leaves the signature empty."""
    signing_input = f"{b64(_json(header))}.{b64(_json(payload))}"
    if secret is None:
        return signing_input + "."
    signature = hmac.new(secret, signing_input.encode(), digest).digest()
    return f"{signing_input}.{b64(signature)}"


@dataclass(frozen=True)
class Keys:
    """What a hostile caller may know or guess, and the key of the instance under attack."""

    secret: bytes  # the instance's signing key (tests only: to prove the check is not the signature)
    kid: str
    other_secret: bytes  # another instance's key
    other_kid: str
    retired_secret: bytes  # a key this instance used before and no longer accepts
    retired_kid: str


def keys_for(secret_key: str) -> Keys:
    """The instance's key and the keys an attacker might hold, all derived on the spot."""
    from label_studio_sso.portal.keys import derive_key, key_id

    secret, other, retired = (
        derive_key(value) for value in (secret_key, "another-instance-" + secret_key, "retired-" + secret_key)
    )
    return Keys(secret, key_id(secret), other, key_id(other), retired, key_id(retired))


def claims(user_id: int, email: str, /, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": str(user_id),
        "user_id": user_id,
        "email": email,
        "iat": now,
        "nbf": now,
        "exp": now + 300,
        "jti": b64(hashlib.sha256(f"{now}-{time.perf_counter_ns()}".encode()).digest())[:32],
    }
    base.update(changes)
    return {name: value for name, value in base.items() if value is not _DROP}


_DROP = object()


def _of_length(length: int, make: Callable[[str, bool], str]) -> str:
    """A well-formed, correctly signed token of exactly ``length`` characters.

    ``make(padding, with_typ)``: unpadded base64 never has a length of 4k+1, so the
    header (with or without ``typ``) gives the second degree of freedom.
    """
    for size in range(length):
        for with_typ in (True, False):
            token = make("x" * size, with_typ)
            if len(token) == length:
                return token
    raise ValueError(f"no token of length {length}")


def corpus(keys: Keys, user_id: int, email: str) -> dict[str, str]:
    """Name → token. Every one of them must be refused, whatever the transport."""
    good_header = {"alg": "HS256", "typ": "JWT", "kid": keys.kid}

    def signed(payload: Any, header: Any = None, secret: bytes | None = keys.secret) -> str:
        return assemble(header if header is not None else good_header, payload, secret)

    def victim(**changes: Any) -> dict[str, Any]:
        return claims(user_id, email, **changes)

    now = int(time.time())
    valid = signed(victim())
    head, body, signature = valid.split(".")
    tokens: dict[str, str] = {
        # the header
        "alg none, no signature": assemble({"alg": "none", "typ": "JWT", "kid": keys.kid}, victim(), None),
        "alg None, no signature": assemble({"alg": "None", "kid": keys.kid}, victim(), None),
        "alg NONE, HS256 signature": signed(victim(), {"alg": "NONE", "kid": keys.kid}),
        "alg HS512 with the right key": assemble(
            {"alg": "HS512", "kid": keys.kid}, victim(), keys.secret, hashlib.sha512
        ),
        "alg HS384 with the right key": assemble(
            {"alg": "HS384", "kid": keys.kid}, victim(), keys.secret, hashlib.sha384
        ),
        "alg RS256, HMAC key as public key": signed(victim(), {"alg": "RS256", "kid": keys.kid}),
        "alg ES256": signed(victim(), {"alg": "ES256", "kid": keys.kid}),
        "alg missing": signed(victim(), {"typ": "JWT", "kid": keys.kid}),
        "alg as a list": signed(victim(), {"alg": ["HS256"], "kid": keys.kid}),
        "kid missing": signed(victim(), {"alg": "HS256", "typ": "JWT"}),
        "kid path traversal": signed(victim(), {"alg": "HS256", "kid": "../../../../../../dev/null"}),
        "kid SQL injection": signed(victim(), {"alg": "HS256", "kid": "x' UNION SELECT 'key' --"}),
        "kid as a number": signed(victim(), {"alg": "HS256", "kid": 1}),
        "kid unknown": signed(victim(), {"alg": "HS256", "kid": "0123456789abcdef"}),
        "crit present": signed(victim(), {**good_header, "crit": ["exp"]}),
        "jku present": signed(victim(), {**good_header, "jku": "https://evil.test/keys.json"}),
        "x5u present": signed(victim(), {**good_header, "x5u": "https://evil.test/cert.pem"}),
        "embedded jwk": signed(victim(), {**good_header, "jwk": {"kty": "oct", "k": b64(b"attacker")}}),
        "typ not JWT": signed(victim(), {**good_header, "typ": "at+jwt"}),
        "header not JSON": f"{b64(b'not json')}.{body}.{signature}",
        "header a JSON array": signed(victim(), ["HS256"]),
        "header with a duplicated alg": signed(
            victim(), f'{{"alg":"none","alg":"HS256","kid":"{keys.kid}"}}'.encode()
        ),
        # claims: missing, one at a time
        **{f"claim {name} missing": signed(victim(**{name: _DROP})) for name in CLAIMS},
        # claims: wrong types
        "user_id a string": signed(victim(user_id=str(user_id))),
        "user_id a float": signed(victim(user_id=float(user_id))),
        "user_id true": signed(victim(user_id=True, sub="True")),
        "user_id a list": signed(victim(user_id=[user_id])),
        "sub a number": signed(victim(sub=user_id)),
        "email a number": signed(victim(email=5)),
        "email empty": signed(victim(email="")),
        "jti a number": signed(victim(jti=12345678901234567890)),
        "jti too short": signed(victim(jti="abc")),
        "iat a string": signed(victim(iat="now")),
        "exp a string": signed(victim(exp="tomorrow")),
        "nbf null": signed(victim(nbf=None)),
        "aud a list with ours": signed(victim(aud=[AUDIENCE, "label-studio"])),
        # claims: wrong values
        "exp negative": signed(victim(exp=-1)),
        "exp huge": signed(victim(exp=10**20)),
        "exp in the past": signed(victim(iat=now - 900, nbf=now - 900, exp=now - 600)),
        "nbf in the future": signed(victim(nbf=now + 3600, exp=now + 7200)),
        "iat in the future beyond skew": signed(victim(iat=now + 3600, nbf=now, exp=now + 7200)),
        "lifetime over a day": signed(victim(iat=now, exp=now + 86400 * 30)),
        "wrong audience": signed(victim(aud="label-studio")),
        "wrong issuer": signed(victim(iss="https://evil.test")),
        "user does not exist": signed(victim(user_id=987654321, sub="987654321")),
        "user id zero": signed(victim(user_id=0, sub="0")),
        "user id negative": signed(victim(user_id=-1, sub="-1")),
        "sub disagrees with user_id": signed(victim(sub=str(user_id + 1))),
        "duplicated user_id claim": signed(
            json.dumps(victim())[:-1].encode() + f',"user_id":{user_id + 1},"sub":"{user_id + 1}"}}'.encode()
        ),
        "payload not JSON": f"{head}.{b64(b'user_id=1')}.{signature}",
        # keys
        "another instance's key": signed(
            victim(), {"alg": "HS256", "kid": keys.other_kid}, keys.other_secret
        ),
        "another instance's key, our kid": signed(victim(), None, keys.other_secret),
        "a retired key": signed(victim(), {"alg": "HS256", "kid": keys.retired_kid}, keys.retired_secret),
        "empty HMAC key": signed(victim(), None, b""),
        # the signature and the shape
        "signature truncated": valid[:-5],
        "signature padded": valid + "==",
        "signature empty": f"{head}.{body}.",
        "signature of another token": f"{head}.{b64(_json(victim(user_id=user_id + 1)))}.{signature}",
        "four segments": valid + ".AAAA",
        "two segments": f"{head}.{body}",
        "non-ASCII inside": valid[:20] + "é" + valid[21:],
        "control character inside": valid[:20] + "\x01" + valid[21:],
        "NUL at the end": valid + "\x00",
        "4 KiB + 1 bytes": _of_length(
            4097,
            lambda padding, with_typ: signed(
                victim(padding=padding), good_header if with_typ else {"alg": "HS256", "kid": keys.kid}
            ),
        ),
        "empty": "",
        "whitespace": "   ",
        "a legacy API token": "0123456789abcdef0123456789abcdef01234567",
    }
    return tokens


def signed_with(token: str, secret: bytes) -> bool:
    """True when ``token`` carries a valid HS256 signature made with ``secret``, whatever it says."""
    parts = token.split(".")
    if len(parts) != 3:
        return False
    expected = b64(hmac.new(secret, f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest())
    return hmac.compare_digest(expected.encode(), parts[2].encode())
