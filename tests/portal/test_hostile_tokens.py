"""Every token of the hostile corpus, by every transport, in-process: none logs anyone in."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from label_studio_sso.errors import TokenRejected
from label_studio_sso.login_tokens import verify_login_token
from tests.support.hostile_tokens import corpus, keys_for
from tests.support.label_studio import TEST_SECRET_KEY, logged_in_browser, personal_access_tokens, whoami


def label_studio_tokens(user: Any) -> dict[str, str]:
    refresh, access = personal_access_tokens(user)
    return {"Label Studio access token": access, "Label Studio refresh token": refresh}


def test_the_corpus_is_large_and_generated() -> None:
    tokens = corpus(keys_for(TEST_SECRET_KEY), 2, "alice@example.com")
    assert len(tokens) >= 60
    assert len(tokens["4 KiB + 1 bytes"]) == 4097


def test_no_hostile_token_passes_verification_except_those_the_login_refuses(alice: Any) -> None:
    """Correctly signed ones may verify; they must then fail on the user (checked below)."""
    signed_by_us_for_a_missing_user = {"user does not exist"}
    for name, token in corpus(keys_for(TEST_SECRET_KEY), alice.pk, alice.email).items():
        if name in signed_by_us_for_a_missing_user:
            continue
        with pytest.raises(TokenRejected):
            verify_login_token(token)
            pytest.fail(f"verified: {name}")


def is_authentic(token: str) -> bool:
    """Signed with this instance's key and refused only for its claims or its use."""
    try:
        verify_login_token(token)
    except TokenRejected as rejected:
        return rejected.authentic
    return True


@pytest.mark.parametrize("transport", ["cookie", "url", "login view"])
def test_no_hostile_token_logs_in_and_only_authentic_ones_end_another_users_session(
    transport: str, alice: Any, make_user: Any
) -> None:
    make_user("bob@example.com")
    tokens = {**corpus(keys_for(TEST_SECRET_KEY), alice.pk, alice.email), **label_studio_tokens(alice)}
    for name, token in tokens.items():
        bob = logged_in_browser("bob@example.com", "Member-password-123")
        for browser in (bob, Client()):
            before = whoami(browser)
            response = send(browser, transport, token)
            assert response.status_code < 500, (name, response.status_code)
            assert response.get("X-Label-Studio-SSO") not in ("logged-in", "already-logged-in"), name
            after = whoami(browser)
            assert after == before or (after is None and is_authentic(token)), name


def send(browser: Client, transport: str, token: str) -> Any:
    if transport == "cookie":
        browser.cookies["ls_auth_token"] = token
        return browser.get("/projects/")
    if transport == "url":
        return browser.get("/projects/", {"token": token})
    return browser.get("/api/sso/login", {"token": token})
