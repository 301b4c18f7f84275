"""Which account an email reaches: ASCII case is ignored, nothing else is folded."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from label_studio_sso import accounts
from label_studio_sso.login_tokens import verify_login_token
from tests.support.confusable_emails import CASES, TARGETS


@pytest.fixture
def targets(make_user: Callable[..., Any]) -> dict[str, Any]:
    return {email: make_user(email) for email in TARGETS}


@pytest.mark.parametrize(("sent", "reaches"), CASES)
def test_a_look_alike_email_never_reaches_another_account(
    api: Any, owner_token: str, targets: dict[str, Any], sent: str, reaches: str | None
) -> None:
    response = api({"email": sent}, auth=f"Token {owner_token}")

    if reaches is None:
        assert response.status_code in (400, 422), response.content
        assert "token" not in response.json()
    else:
        assert response.status_code == 200, response.content
        assert verify_login_token(response.json()["token"]).user_id == targets[reaches].pk


def test_same_email_ignores_ascii_case_and_surrounding_spaces_only() -> None:
    assert accounts.same_email(" Alice@Example.COM", "alice@example.com")
    assert not accounts.same_email("al\u0131ce@example.com", "alice@example.com")
    assert not accounts.same_email("stra\u00dfe@example.com", "STRASSE@example.com")
    assert not accounts.same_email(None, "alice@example.com")


def test_a_token_whose_email_only_folds_to_the_users_gives_no_session(targets: dict[str, Any]) -> None:
    from django.test import Client

    from tests.support.label_studio import signed_login_token, whoami

    kim = targets["kim@example.com"]
    kim.email = "\u212aim@example.com"  # kim's id, with a Kelvin sign that str.lower() makes a k
    browser = Client()

    response = browser.get("/api/sso/login", {"token": signed_login_token(kim)})

    assert response["X-Label-Studio-SSO"] == "user-not-found"
    assert whoami(browser) is None
