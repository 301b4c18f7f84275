"""Property-based checks (hypothesis) of token verification and of the token API's parser.

Properties: verification raises TokenRejected or returns claims, never anything else; it
accepts nothing without the instance's signature; a valid token changed anywhere is
refused unless its decoded bytes are unchanged; the token API answers every body,
content type and length with a JSON 4xx or a token, never a 500.
"""

from __future__ import annotations

import json
import time
from typing import Any

import jwt
import pytest
from django.test import Client, override_settings
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from label_studio_sso.errors import TokenRejected
from label_studio_sso.login_tokens import verify_login_token
from label_studio_sso.portal.keys import derive_key, key_id
from label_studio_sso.portal.tokens import AUDIENCE, ISSUER
from tests.support.hostile_tokens import assemble, claims
from tests.support.label_studio import TEST_SECRET_KEY

SECRET = derive_key(TEST_SECRET_KEY)
KID = key_id(SECRET)
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
CLAIM_NAMES = st.sampled_from(["iss", "aud", "sub", "user_id", "email", "iat", "nbf", "exp", "jti", "x"])


def verifies(token: Any) -> Any:
    """The claims, or None when refused; any other exception fails the property."""
    try:
        return verify_login_token(token)
    except TokenRejected:
        return None


@FUZZ
@given(st.text(max_size=300) | st.binary(max_size=300).map(lambda data: data.decode("latin-1")))
def test_any_string_is_refused_cleanly(raw: str) -> None:
    assert verifies(raw) is None


@FUZZ
@given(
    st.one_of(
        st.none(), st.integers(), st.binary(), st.lists(st.text()), st.dictionaries(st.text(), st.text())
    )
)
def test_anything_that_is_not_a_string_is_refused_cleanly(raw: Any) -> None:
    assert verifies(raw) is None


@FUZZ
@given(
    header=st.dictionaries(st.sampled_from(["alg", "typ", "kid", "crit", "jku"]), JSON_VALUES, max_size=4),
    payload=st.dictionaries(CLAIM_NAMES, JSON_VALUES, max_size=10),
    secret=st.binary(max_size=40),
)
def test_nothing_signed_without_the_instance_key_verifies(header: Any, payload: Any, secret: bytes) -> None:
    if secret == SECRET:  # pragma: no cover  (40 random bytes are never the key)
        return
    assert verifies(assemble({**header, "kid": KID}, payload, secret)) is None
    assert verifies(assemble(header, payload, secret)) is None


@FUZZ
@given(changes=st.dictionaries(CLAIM_NAMES, JSON_VALUES, max_size=4))
@example(changes={"exp": 10**30})
@example(changes={"user_id": True})
def test_a_correctly_signed_token_verifies_only_with_the_contracts_claims(changes: dict[str, Any]) -> None:
    """Our own signature on arbitrary claims: accepted only if every claim is as issued."""
    token = assemble(
        {"alg": "HS256", "typ": "JWT", "kid": KID}, claims(7, "alice@example.com", **changes), SECRET
    )
    verified = verifies(token)
    if verified is None:
        return
    decoded = jwt.decode(token, SECRET, algorithms=["HS256"], audience=AUDIENCE, leeway=30)
    assert decoded["iss"] == ISSUER and decoded["aud"] == AUDIENCE
    assert (
        type(decoded["user_id"]) is int
        and decoded["user_id"] >= 1
        and decoded["sub"] == str(verified.user_id)
    )
    assert decoded["exp"] > time.time() - 30 and decoded["exp"] - decoded["iat"] <= 86400
    assert verified.email == decoded["email"] and verified.jti == decoded["jti"]


VALID = assemble(
    {"alg": "HS256", "typ": "JWT", "kid": KID}, claims(7, "alice@example.com", exp=2**31 - 1), SECRET
)


@FUZZ
@given(position=st.integers(0, len(VALID) - 1), replacement=st.characters(codec="ascii"))
def test_a_valid_token_changed_in_one_place_is_refused_unless_it_decodes_the_same(
    position: int, replacement: str
) -> None:
    changed = VALID[:position] + replacement + VALID[position + 1 :]
    if verifies(changed) is not None:
        assert _decoded_segments(changed) == _decoded_segments(VALID)


def _decoded_segments(token: str) -> list[bytes]:
    return [jwt.utils.base64url_decode(segment) for segment in token.split(".")]


@pytest.mark.django_db
@override_settings(SSO_RATE_LIMIT="100000/s")
@FUZZ
@given(
    body=st.one_of(
        st.binary(max_size=300),
        JSON_VALUES.map(lambda value: json.dumps(value).encode()),
        st.fixed_dictionaries(
            {"email": JSON_VALUES | st.emails(), "next": JSON_VALUES | st.text(max_size=40)}
        ).map(lambda value: json.dumps(value).encode()),
    ),
    content_type=st.sampled_from(
        [
            "application/json",
            "application/json; charset=latin-1",
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "",
            "application/json; charset=utf-8",
        ]
    ),
    declared=st.sampled_from(["exact", "shorter", "negative", "not a number", "empty", "over the cap"]),
)
def test_the_token_api_never_answers_500(
    owner_token: str, alice: Any, body: bytes, content_type: str, declared: str
) -> None:
    """Content-Length may lie in every way a test client can carry: shorter than the body,
    negative, not a number, empty; a body over the cap is really sent (16 KiB + 1)."""
    if declared == "over the cap":
        body = body.ljust(16 * 1024 + 1, b" ")
    length = {"shorter": str(len(body) // 2), "negative": "-5", "not a number": "12abc", "empty": ""}.get(
        declared, str(len(body))
    )
    response = Client().generic(  # generic(): the body's bytes go out exactly as generated
        "POST",
        "/api/sso/token",
        body,
        content_type=content_type,
        HTTP_AUTHORIZATION=f"Token {owner_token}",
        CONTENT_LENGTH=length,
    )
    assert response.status_code == 200 or 400 <= response.status_code < 500, response.content[:200]
    payload = response.json()
    assert ("token" in payload) if response.status_code == 200 else ("error_code" in payload)
