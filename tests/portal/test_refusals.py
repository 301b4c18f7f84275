"""A refused token for someone else ends the browser's session, on every transport.

On a shared computer the portal sends the next person's token; if it cannot be honoured
(expired, replayed, user gone) that person must not land on the previous one's pages.
Tokens that do not verify never end a session: nobody outside the portal can log anyone out.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from tests.support.label_studio import signed_login_token, whoami

SAME_SITE = {"HTTP_SEC_FETCH_SITE": "same-site"}


def expired(user: Any) -> str:
    now = int(time.time())
    return signed_login_token(user, iat=now - 900, nbf=now - 900, exp=now - 300)


def send_by_url(browser: Client, token: str) -> Any:
    return browser.get(f"/projects/?token={token}", **SAME_SITE)


def send_by_cookie(browser: Client, token: str) -> Any:
    browser.cookies["ls_auth_token"] = token
    return browser.get("/projects/", **SAME_SITE)


def send_by_login_url(browser: Client, token: str) -> Any:
    return browser.get("/api/sso/login", {"token": token, "next": "/projects/"}, **SAME_SITE)


TRANSPORTS: dict[str, Callable[[Client, str], Any]] = {
    "url": send_by_url,
    "cookie": send_by_cookie,
    "login_url": send_by_login_url,
}


@pytest.fixture
def spent_bob_token(issue: Any, bob: Any) -> str:
    token = issue("bob@example.com")
    Client().get(f"/?token={token}")
    return token


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_replayed_token_for_another_user_ends_the_session(
    alice_browser: Client, spent_bob_token: str, transport: str
) -> None:
    response = TRANSPORTS[transport](alice_browser, spent_bob_token)

    assert response["X-Label-Studio-SSO"] == "replayed"
    assert whoami(alice_browser) is None
    assert alice_browser.get("/projects/")["Location"].startswith("/user/login/")


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_an_expired_token_for_another_user_ends_the_session(
    alice_browser: Client, bob: Any, transport: str
) -> None:
    response = TRANSPORTS[transport](alice_browser, expired(bob))
    assert response["X-Label-Studio-SSO"] == "expired"
    assert whoami(alice_browser) is None


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_token_for_a_deactivated_user_ends_the_session(
    alice_browser: Client, issue: Any, bob: Any, transport: str
) -> None:
    token = issue("bob@example.com")
    bob.is_active = False
    bob.save(update_fields=["is_active"])

    response = TRANSPORTS[transport](alice_browser, token)

    assert response["X-Label-Studio-SSO"] == "user-inactive"
    assert whoami(alice_browser) is None


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_the_users_own_spent_token_keeps_the_session(
    alice_browser: Client, alice: Any, transport: str
) -> None:
    TRANSPORTS[transport](alice_browser, expired(alice))
    assert whoami(alice_browser) == "alice@example.com"


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_forged_token_naming_another_user_never_ends_the_session(
    alice_browser: Client, bob: Any, transport: str
) -> None:
    forged = signed_login_token(bob)[:-4] + "AAAA"  # the signature no longer matches

    response = TRANSPORTS[transport](alice_browser, forged)

    assert response["X-Label-Studio-SSO"] == "bad-signature"
    assert whoami(alice_browser) == "alice@example.com"


def test_the_login_url_lands_on_the_login_page_after_ending_the_session(
    alice_browser: Client, spent_bob_token: str
) -> None:
    response = send_by_login_url(alice_browser, spent_bob_token)
    assert response["Location"] == "/user/login/?next=/projects/"
    assert alice_browser.get(response["Location"]).status_code == 200
