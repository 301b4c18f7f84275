"""GET /api/sso/login: redeem, then the deep link; anything wrong lands on the login page."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.db import OperationalError, connection
from django.test import Client

from label_studio_sso.models import RedeemedToken
from tests.support.label_studio import signed_login_token, whoami


def test_the_login_url_logs_in_and_lands_on_the_deep_link(api: Any, owner_token: str, alice: Any) -> None:
    body = api(
        {"email": "alice@example.com", "next": "/projects/3/data?tab=1"}, auth=f"Token {owner_token}"
    ).json()
    browser = Client()

    response = browser.get(body["login_url"].replace("http://testserver", ""))

    assert response.status_code == 302
    assert response["Location"] == "/projects/3/data?tab=1"
    assert response["X-Label-Studio-SSO"] == "logged-in"
    assert response["Cache-Control"] == "no-store"
    assert whoami(browser) == "alice@example.com"


def test_without_next_the_login_url_lands_on_the_home_page(issue: Any, alice: Any) -> None:
    response = Client().get(f"/api/sso/login?token={issue('alice@example.com')}")
    assert response["Location"] == "/"


@pytest.mark.parametrize(
    "next_value", ["https://evil.example/", "//evil.example", "/\\evil.example", "javascript:alert(1)"]
)
def test_an_unsafe_next_falls_back_to_the_home_page(issue: Any, alice: Any, next_value: str) -> None:
    browser = Client()
    response = browser.get("/api/sso/login", {"token": issue("alice@example.com"), "next": next_value})
    assert response["Location"] == "/"
    assert whoami(browser) == "alice@example.com"


def test_a_replayed_login_url_lands_on_the_login_page_with_the_reason(issue: Any, alice: Any) -> None:
    token = issue("alice@example.com")
    Client().get("/api/sso/login", {"token": token, "next": "/projects/"})

    browser = Client()
    response = browser.get("/api/sso/login", {"token": token, "next": "/projects/"})

    assert response.status_code == 302
    assert response["Location"] == "/user/login/?next=/projects/"
    assert response["X-Label-Studio-SSO"] == "replayed"
    assert whoami(browser) is None
    assert browser.get(response["Location"]).status_code == 200


def test_a_missing_token_lands_on_the_login_page() -> None:
    response = Client().get("/api/sso/login")
    assert response["Location"] == "/user/login/?next=/"
    assert response["X-Label-Studio-SSO"] == "missing-token"


def test_two_tokens_are_refused(issue: Any, alice: Any) -> None:
    token = issue("alice@example.com")
    response = Client().get(f"/api/sso/login?token={token}&token={token}")
    assert response["X-Label-Studio-SSO"] == "ambiguous-token"
    assert not RedeemedToken.objects.exists()


def test_a_failed_login_url_keeps_the_existing_session(issue: Any, alice: Any) -> None:
    browser = Client()
    browser.get(f"/api/sso/login?token={issue('alice@example.com')}")

    browser.get("/api/sso/login?token=garbage")

    assert whoami(browser) == "alice@example.com"


def test_the_login_url_also_works_with_a_trailing_slash(issue: Any, alice: Any) -> None:
    assert (
        Client().get(f"/api/sso/login/?token={issue('alice@example.com')}")["X-Label-Studio-SSO"]
        == "logged-in"
    )


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_other_methods_get_405_json(method: str) -> None:
    response = getattr(Client(), method)("/api/sso/login?token=x")
    assert response.status_code == 405
    assert response.json()["error_code"] == "METHOD_NOT_ALLOWED"
    assert response["Allow"] == "GET, HEAD"


def test_with_the_database_down_nothing_is_recorded_and_no_one_is_logged_in(issue: Any, alice: Any) -> None:
    token = issue("alice@example.com")

    def database_down(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        raise OperationalError("connection refused")

    browser = Client(raise_request_exception=False)
    with connection.execute_wrapper(database_down):
        by_url = browser.get("/projects/", {"token": token})
        by_login_url = browser.get("/api/sso/login", {"token": token})

    assert by_url.status_code == 302
    assert by_url["X-Label-Studio-SSO"] == "database-unavailable"
    assert by_login_url.status_code == 503  # Label Studio's own middleware needs the database first
    assert by_login_url.json()["error_code"] == "DATABASE_UNAVAILABLE"
    assert not RedeemedToken.objects.exists()
    assert whoami(browser) is None
    assert browser.get("/api/sso/login", {"token": token})["X-Label-Studio-SSO"] == "logged-in"


def test_a_database_outage_on_a_page_answers_503_text_not_500(alice: Any) -> None:
    def database_down(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        raise OperationalError("connection refused")

    with connection.execute_wrapper(database_down):
        response = Client(raise_request_exception=False).get("/user/login/")

    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/plain")
    assert response["Retry-After"] == "5"


def test_other_server_errors_keep_djangos_500(rf: Any) -> None:
    from label_studio_sso.guards.outage import server_error

    try:
        raise ValueError("boom")
    except ValueError:
        response = server_error(rf.get("/api/projects/"))
    assert response.status_code == 500


def fail_on_last_login(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
    if sql.startswith("UPDATE") and "last_login" in sql:
        raise OperationalError("connection lost")
    return execute(sql, params, many, context)


def test_a_database_failure_during_a_user_switch_records_nothing_and_leaves_no_one_logged_in(
    issue: Any, alice: Any, bob: Any
) -> None:
    browser = Client(raise_request_exception=False)
    browser.get(f"/api/sso/login?token={issue('alice@example.com')}")
    bob_token = issue("bob@example.com")

    with connection.execute_wrapper(fail_on_last_login):
        response = browser.get("/api/sso/login", {"token": bob_token}, HTTP_SEC_FETCH_SITE="same-site")

    assert response["X-Label-Studio-SSO"] == "database-unavailable"
    assert whoami(browser) is None  # bob's token could not be honoured: alice's pages are not his
    assert not RedeemedToken.objects.filter(user_id=bob.pk).exists()


def test_a_database_failure_during_a_repeated_login_restores_the_users_session(
    issue: Any, alice: Any
) -> None:
    browser = Client(raise_request_exception=False)
    browser.get(f"/api/sso/login?token={issue('alice@example.com')}")
    second = issue("alice@example.com")

    with connection.execute_wrapper(fail_on_last_login):
        response = browser.get("/api/sso/login", {"token": second})

    assert response["X-Label-Studio-SSO"] == "database-unavailable"
    assert whoami(browser) == "alice@example.com"
    assert RedeemedToken.objects.filter(user_id=alice.pk).count() == 1


def test_a_token_used_after_its_expiry_lands_on_the_login_page(alice: Any) -> None:
    now = int(time.time())
    token = signed_login_token(alice, iat=now - 700, nbf=now - 700, exp=now - 100)
    browser = Client()
    response = browser.get("/api/sso/login", {"token": token})
    assert response["X-Label-Studio-SSO"] == "expired"
    assert response["Location"] == "/user/login/?next=/"
    assert whoami(browser) is None
