"""Login tokens: what verifies, and every hostile variation that must not."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.test import override_settings

from label_studio_sso.errors import Reason, TokenRejected
from label_studio_sso.login_tokens import MAX_LOGIN_TOKEN_BYTES as MAX_TOKEN_BYTES
from label_studio_sso.login_tokens import verify_login_token
from label_studio_sso.portal.keys import derive_key, key_id, signing_key
from label_studio_sso.portal.tokens import (
    AUDIENCE,
    ISSUER,
    IssuedToken,
    fingerprint,
    issue_login_token,
)
from tests.support.label_studio import TEST_SECRET_KEY, personal_access_tokens


def claims_for(user: Any, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": str(user.pk),
        "user_id": user.pk,
        "email": user.email,
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "jti": "j" * 32,
    }
    for name, value in changes.items():
        if value is ...:
            claims.pop(name)
        else:
            claims[name] = value
    return claims


def sign(
    claims: dict[str, Any], *, secret: bytes | None = None, headers: dict[str, Any] | None = None
) -> str:
    key = signing_key() if secret is None else None
    secret = key.secret if key else secret
    all_headers = {"kid": key.kid if key else key_id(secret), **(headers or {})}
    return jwt.encode(claims, secret, algorithm="HS256", headers=all_headers)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(
    header: dict[str, Any], claims: dict[str, Any], secret: bytes | None = None, alg: str = "HS256"
) -> str:
    """A token built by hand, for headers PyJWT refuses to write."""
    import hashlib
    import hmac

    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    if secret is None:
        return signing_input + "."
    digest = {"HS256": hashlib.sha256, "HS512": hashlib.sha512}[alg]
    return signing_input + "." + b64(hmac.new(secret, signing_input.encode(), digest).digest())


def reason_for(token: Any) -> str:
    with pytest.raises(TokenRejected) as rejected:
        verify_login_token(token)
    return rejected.value.reason


def test_an_issued_token_verifies_to_its_user(alice: Any) -> None:
    issued = issue_login_token(alice.pk, alice.email)
    claims = verify_login_token(issued.token)
    assert (claims.user_id, claims.email, claims.jti) == (alice.pk, alice.email, issued.jti)


def test_an_issued_token_carries_every_required_claim_and_a_kid(alice: Any) -> None:
    token = issue_login_token(alice.pk, alice.email).token
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert header == {"alg": "HS256", "typ": "JWT", "kid": signing_key().kid}
    assert set(claims) == {"iss", "aud", "sub", "user_id", "email", "iat", "nbf", "exp", "jti"}


def test_the_issued_token_repr_shows_no_token(alice: Any) -> None:
    issued = issue_login_token(alice.pk, alice.email)
    assert issued.token not in repr(issued)
    assert isinstance(issued, IssuedToken)
    assert fingerprint(issued.jti) in repr(issued)


@override_settings(JWT_SSO_NATIVE_USER_ID_CLAIM="ls_uid")
def test_the_user_id_claim_name_is_configurable(alice: Any) -> None:
    token = issue_login_token(alice.pk, alice.email).token
    assert jwt.decode(token, options={"verify_signature": False})["ls_uid"] == alice.pk
    assert verify_login_token(token).user_id == alice.pk
    assert reason_for(sign(claims_for(alice))) == Reason.MISSING_CLAIM


def _hostile_tokens(user: Any) -> list[tuple[str, Any, str]]:
    now = int(time.time())
    good = signing_key()
    other_instance = derive_key("another-instance-secret-key-0123456789-abcdef")
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    rsa_pem = rsa_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    valid = sign(claims_for(user))
    header, payload, signature = valid.split(".")
    cases = [
        ("none", None, Reason.MISSING),
        ("empty", "", Reason.MISSING),
        ("number", 12345, Reason.MISSING),
        ("whitespace", "   ", Reason.MALFORMED),
        ("garbage", "garbage", Reason.MALFORMED),
        ("two parts", "abc.def", Reason.MALFORMED),
        ("four parts", valid + ".x", Reason.MALFORMED),
        ("non-ascii", valid[:-2] + "é", Reason.MALFORMED),
        ("control char", valid[:-2] + "\x00", Reason.MALFORMED),
        ("surrounding space", f" {valid} ", Reason.MALFORMED),
        ("oversize", "a" * (MAX_TOKEN_BYTES + 1), Reason.TOO_LARGE),
        ("header not json", f"{b64(b'not json')}.{payload}.{signature}", Reason.MALFORMED),
        ("alg none", forge({"alg": "none", "kid": good.kid}, claims_for(user)), Reason.MALFORMED),
        (
            "alg none signed",
            forge({"alg": "none", "kid": good.kid}, claims_for(user), good.secret),
            Reason.ALGORITHM,
        ),
        (
            "alg None",
            forge({"alg": "None", "kid": good.kid}, claims_for(user), good.secret),
            Reason.ALGORITHM,
        ),
        (
            "alg HS512",
            forge({"alg": "HS512", "kid": good.kid}, claims_for(user), good.secret, "HS512"),
            Reason.ALGORITHM,
        ),
        (
            "alg RS256",
            jwt.encode(claims_for(user), rsa_pem, algorithm="RS256", headers={"kid": good.kid}),
            Reason.ALGORITHM,
        ),
        ("alg missing", forge({"kid": good.kid}, claims_for(user), good.secret), Reason.ALGORITHM),
        (
            "crit header",
            forge({"alg": "HS256", "kid": good.kid, "crit": ["exp"]}, claims_for(user), good.secret),
            Reason.MALFORMED,
        ),
        (
            "jku header",
            forge(
                {"alg": "HS256", "kid": good.kid, "jku": "https://evil.example/jwks"},
                claims_for(user),
                good.secret,
            ),
            Reason.BAD_HEADER,
        ),
        (
            "typ not JWT",
            forge({"alg": "HS256", "kid": good.kid, "typ": "at+jwt"}, claims_for(user), good.secret),
            Reason.BAD_HEADER,
        ),
        ("kid missing", forge({"alg": "HS256"}, claims_for(user), good.secret), Reason.BAD_HEADER),
        (
            "kid not a string",
            forge({"alg": "HS256", "kid": 7}, claims_for(user), good.secret),
            Reason.MALFORMED,
        ),
        (
            "kid path",
            forge({"alg": "HS256", "kid": "../../etc/passwd"}, claims_for(user), good.secret),
            Reason.UNKNOWN_KEY,
        ),
        (
            "kid sql",
            forge({"alg": "HS256", "kid": "' OR 1=1 --"}, claims_for(user), good.secret),
            Reason.UNKNOWN_KEY,
        ),
        ("another instance's key", sign(claims_for(user), secret=other_instance), Reason.UNKNOWN_KEY),
        (
            "wrong key, right kid",
            forge({"alg": "HS256", "kid": good.kid}, claims_for(user), other_instance),
            Reason.BAD_SIGNATURE,
        ),
        (
            "secret key itself",
            forge({"alg": "HS256", "kid": good.kid}, claims_for(user), TEST_SECRET_KEY.encode()),
            Reason.BAD_SIGNATURE,
        ),
        ("truncated signature", valid[:-4], Reason.BAD_SIGNATURE),
        ("padded signature", valid + "AAAA", Reason.BAD_SIGNATURE),
        (
            "payload swapped",
            f"{header}.{b64(json.dumps(claims_for(user, user_id=1)).encode())}.{signature}",
            Reason.BAD_SIGNATURE,
        ),
        ("expired", sign(claims_for(user, iat=now - 700, nbf=now - 700, exp=now - 100)), Reason.EXPIRED),
        ("not yet valid", sign(claims_for(user, nbf=now + 300)), Reason.NOT_YET_VALID),
        (
            "issued in the future",
            sign(claims_for(user, iat=now + 300, nbf=now, exp=now + 900)),
            Reason.NOT_YET_VALID,
        ),
        ("wrong audience", sign(claims_for(user, aud="label-studio")), Reason.WRONG_AUDIENCE),
        ("audience list", sign(claims_for(user, aud=[AUDIENCE, "other"])), Reason.WRONG_AUDIENCE),
        ("wrong issuer", sign(claims_for(user, iss="someone-else")), Reason.WRONG_ISSUER),
        ("lifetime too long", sign(claims_for(user, exp=now + 90000)), Reason.LIFETIME_TOO_LONG),
        ("huge exp", sign(claims_for(user, exp=10**18)), Reason.LIFETIME_TOO_LONG),
        ("exp float", sign(claims_for(user, exp=now + 600.5)), Reason.INVALID_CLAIM),
        ("exp string", sign(claims_for(user, exp=str(now + 600))), Reason.INVALID_CLAIM),
        ("exp list", sign(claims_for(user, exp=[now])), Reason.INVALID_CLAIM),
        (
            "exp infinity",
            forge({"alg": "HS256", "kid": good.kid}, claims_for(user, exp=float("inf")), good.secret),
            Reason.INVALID_CLAIM,
        ),
        ("iat string", sign(claims_for(user, iat="now")), Reason.INVALID_CLAIM),
        ("nbf float", sign(claims_for(user, nbf=now + 0.5)), Reason.INVALID_CLAIM),
        ("user id string", sign(claims_for(user, user_id=str(user.pk))), Reason.INVALID_CLAIM),
        ("user id bool", sign(claims_for(user, user_id=True, sub="True")), Reason.INVALID_CLAIM),
        ("user id zero", sign(claims_for(user, user_id=0, sub="0")), Reason.INVALID_CLAIM),
        ("sub mismatch", sign(claims_for(user, sub="999")), Reason.INVALID_CLAIM),
        ("email not string", sign(claims_for(user, email=["a@example.com"])), Reason.INVALID_CLAIM),
        ("email empty", sign(claims_for(user, email="")), Reason.INVALID_CLAIM),
        ("jti short", sign(claims_for(user, jti="abc")), Reason.INVALID_CLAIM),
        ("jti with sql", sign(claims_for(user, jti="x' OR '1'='1' -- xxxxxxxx")), Reason.INVALID_CLAIM),
        ("jti number", sign(claims_for(user, jti=12345678901234567890)), Reason.INVALID_CLAIM),
    ]
    cases += [
        (f"missing {claim}", sign(claims_for(user, **{claim: ...})), Reason.MISSING_CLAIM)
        for claim in ("iss", "aud", "sub", "user_id", "email", "iat", "nbf", "exp", "jti")
    ]
    return cases


def test_every_hostile_token_is_rejected_with_its_reason(alice: Any) -> None:
    outcomes = {name: (reason_for(token), expected) for name, token, expected in _hostile_tokens(alice)}
    wrong = {name: got for name, (got, expected) in outcomes.items() if got != expected}
    assert len(outcomes) >= 60
    assert wrong == {}


def test_label_studios_own_access_and_refresh_tokens_are_not_login_tokens(organization_owner: Any) -> None:
    refresh, access = personal_access_tokens(organization_owner)
    assert reason_for(access) == Reason.BAD_HEADER  # no kid, so never checked against our keys
    assert reason_for(refresh) == Reason.BAD_HEADER


def test_label_studio_style_tokens_signed_with_secret_key_are_refused(alice: Any) -> None:
    payload = {
        "token_type": "access",
        "user_id": str(alice.pk),
        "exp": int(time.time()) + 300,
        "jti": "j" * 32,
    }
    forged = jwt.encode(payload, TEST_SECRET_KEY, algorithm="HS256", headers={"kid": signing_key().kid})
    assert reason_for(forged) == Reason.BAD_SIGNATURE


@override_settings(SSO_CLOCK_SKEW=60)
def test_clock_skew_within_the_leeway_is_tolerated(alice: Any) -> None:
    now = int(time.time())
    token = sign(claims_for(alice, iat=now - 700, nbf=now - 700, exp=now - 30))
    assert verify_login_token(token).user_id == alice.pk
    assert verify_login_token(sign(claims_for(alice, nbf=now + 45))).user_id == alice.pk


@override_settings(SSO_CLOCK_SKEW=0)
def test_without_leeway_an_expired_token_is_refused_at_once(alice: Any) -> None:
    now = int(time.time())
    assert reason_for(sign(claims_for(alice, iat=now - 700, nbf=now - 700, exp=now - 1))) == Reason.EXPIRED
