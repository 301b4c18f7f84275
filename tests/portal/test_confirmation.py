"""Login CSRF: a link from elsewhere may not silently switch a logged-in browser to another user."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.db import OperationalError, connection
from django.test import Client, override_settings

from tests.support.label_studio import csrf_post, whoami

FROM_ELSEWHERE = (
    {"HTTP_SEC_FETCH_SITE": "cross-site"},
    {"HTTP_SEC_FETCH_SITE": "none"},
    {},
    {"HTTP_REFERER": "https://evil.example/cats"},
    {"HTTP_SEC_FETCH_SITE": "cross-site", "HTTP_REFERER": "https://portal.example.evil.example/"},
)
CONFIRM = "/api/sso/confirm?next=%2Fprojects%2F"
PENDING_KEY = "_sso_pending_login"  # label_studio_sso.portal.login.SESSION_PENDING_KEY
SAME_ORIGIN = {"HTTP_ORIGIN": "http://testserver"}


def hold_switch_to_bob(browser: Client, issue: Any) -> None:
    """A link from another site asks to switch the browser to bob; the page is loaded."""
    held = browser.get(f"/projects/?token={issue('bob@example.com')}", HTTP_SEC_FETCH_SITE="cross-site")
    assert held["Location"] == CONFIRM
    browser.get(CONFIRM)


@pytest.mark.parametrize(
    "headers",
    FROM_ELSEWHERE,
    ids=["cross-site", "typed-or-mailed", "no-header", "http-other-site", "look-alike"],
)
def test_a_link_from_elsewhere_for_another_user_asks_first(
    alice_browser: Client, issue: Any, bob: Any, headers: dict[str, str]
) -> None:
    token = issue("bob@example.com")

    response = alice_browser.get(f"/projects/?token={token}", **headers)

    assert response.status_code == 302
    assert response["Location"] == CONFIRM
    assert response["X-Label-Studio-SSO"] == "confirmation-required"
    assert whoami(alice_browser) == "alice@example.com"
    replay = Client().get(f"/projects/?token={token}")
    assert replay["X-Label-Studio-SSO"] == "replayed"  # spent, whatever the answer will be


@pytest.mark.parametrize("site", ["same-origin", "same-site"])
def test_the_portals_own_user_switch_on_the_same_site_needs_no_confirmation(
    alice_browser: Client, issue: Any, bob: Any, site: str
) -> None:
    response = alice_browser.get(f"/projects/?token={issue('bob@example.com')}", HTTP_SEC_FETCH_SITE=site)

    assert response["X-Label-Studio-SSO"] == "logged-in"
    assert whoami(alice_browser) == "bob@example.com"


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("SSO_FRAME_ANCESTORS", "https://portal.other.example"),
        ("CSRF_TRUSTED_ORIGINS", ["https://*.other.example"]),
    ],
)
def test_a_switch_from_a_portal_the_operator_named_needs_no_confirmation(
    alice_browser: Client, issue: Any, bob: Any, setting: str, value: Any
) -> None:
    token = issue("bob@example.com")
    with override_settings(**{setting: value}):
        response = alice_browser.get(
            f"/projects/?token={token}",
            HTTP_SEC_FETCH_SITE="cross-site",
            HTTP_REFERER="https://portal.other.example/",  # the portal's origin (strict-origin)
        )
    assert response["X-Label-Studio-SSO"] == "logged-in"
    assert whoami(alice_browser) == "bob@example.com"


def test_a_browser_nobody_is_logged_in_to_logs_in_from_another_site_at_once(issue: Any, bob: Any) -> None:
    browser = Client()
    response = browser.get(f"/projects/?token={issue('bob@example.com')}", HTTP_SEC_FETCH_SITE="cross-site")
    assert response["X-Label-Studio-SSO"] == "logged-in"
    assert whoami(browser) == "bob@example.com"


def test_the_confirmation_page_names_both_accounts_and_cannot_be_framed_by_others(
    alice_browser: Client, issue: Any, bob: Any
) -> None:
    token = issue("bob@example.com")
    alice_browser.get(f"/projects/?token={token}", HTTP_SEC_FETCH_SITE="cross-site")

    page = alice_browser.get(CONFIRM)

    assert page.status_code == 200
    html = page.content.decode()
    assert "alice@example.com" in html and "bob@example.com" in html
    assert token.split(".")[2] not in html
    assert "frame-ancestors 'self'" in page["Content-Security-Policy"]
    assert page["Cache-Control"] == "no-store"
    assert page["Referrer-Policy"] == "same-origin"  # no-referrer would make the POST's Origin null


def test_continuing_switches_to_the_new_user_and_lands_on_next(
    alice_browser: Client, issue: Any, bob: Any
) -> None:
    hold_switch_to_bob(alice_browser, issue)

    response = csrf_post(alice_browser, CONFIRM, {"choice": "switch"}, **SAME_ORIGIN)

    assert response.status_code == 302
    assert response["Location"] == "/projects/"
    assert response["X-Label-Studio-SSO"] == "logged-in"
    assert whoami(alice_browser) == "bob@example.com"
    assert PENDING_KEY not in alice_browser.session


def test_staying_keeps_the_user_and_forgets_the_switch(alice_browser: Client, issue: Any, bob: Any) -> None:
    hold_switch_to_bob(alice_browser, issue)

    stay = csrf_post(alice_browser, CONFIRM, {"choice": "stay"}, **SAME_ORIGIN)
    late_switch = csrf_post(alice_browser, CONFIRM, {"choice": "switch"}, **SAME_ORIGIN)

    assert stay["Location"] == "/projects/"
    assert late_switch["X-Label-Studio-SSO"] == "expired"
    assert whoami(alice_browser) == "alice@example.com"


def test_a_forged_confirmation_without_the_csrf_token_is_refused(
    alice_browser: Client, issue: Any, bob: Any
) -> None:
    alice_browser.get(f"/projects/?token={issue('bob@example.com')}", HTTP_SEC_FETCH_SITE="cross-site")

    response = alice_browser.post(CONFIRM, {"choice": "switch"}, **SAME_ORIGIN)

    assert response.status_code == 403
    assert whoami(alice_browser) == "alice@example.com"


def test_a_confirmation_posted_from_another_origin_is_refused(
    alice_browser: Client, issue: Any, bob: Any
) -> None:
    hold_switch_to_bob(alice_browser, issue)

    response = csrf_post(alice_browser, CONFIRM, {"choice": "switch"}, HTTP_ORIGIN="https://evil.example")

    assert response.status_code == 403
    assert whoami(alice_browser) == "alice@example.com"


def test_a_held_switch_expires(alice_browser: Client, issue: Any, bob: Any) -> None:
    alice_browser.get(f"/projects/?token={issue('bob@example.com')}", HTTP_SEC_FETCH_SITE="cross-site")
    session = alice_browser.session
    session[PENDING_KEY] = {**session[PENDING_KEY], "until": int(time.time()) - 1}
    session.save()
    alice_browser.cookies["sessionid"] = session.session_key

    assert alice_browser.get(CONFIRM)["Location"] == "/projects/"  # nothing left to confirm
    response = csrf_post(alice_browser, CONFIRM, {"choice": "switch"}, **SAME_ORIGIN)

    assert response["Location"].startswith("/user/login/")
    assert whoami(alice_browser) == "alice@example.com"


def test_a_user_deactivated_before_the_confirmation_is_not_logged_in(
    alice_browser: Client, issue: Any, bob: Any
) -> None:
    hold_switch_to_bob(alice_browser, issue)
    bob.is_active = False
    bob.save(update_fields=["is_active"])

    csrf_post(alice_browser, CONFIRM, {"choice": "switch"}, **SAME_ORIGIN)

    assert whoami(alice_browser) == "alice@example.com"


def test_a_cookie_token_from_elsewhere_asks_too(alice_browser: Client, issue: Any, bob: Any) -> None:
    alice_browser.cookies["ls_auth_token"] = issue("bob@example.com")

    response = alice_browser.get("/projects/", HTTP_SEC_FETCH_SITE="cross-site")

    assert response["Location"] == CONFIRM
    assert response.cookies["ls_auth_token"].value == ""
    assert whoami(alice_browser) == "alice@example.com"


def test_the_login_url_from_elsewhere_asks_and_keeps_next(
    alice_browser: Client, issue: Any, bob: Any
) -> None:
    response = alice_browser.get(
        "/api/sso/login",
        {"token": issue("bob@example.com"), "next": "/projects/"},
        HTTP_SEC_FETCH_SITE="none",
    )
    assert response["Location"] == CONFIRM
    assert whoami(alice_browser) == "alice@example.com"


def test_without_a_pending_switch_the_page_sends_the_browser_on(alice_browser: Client) -> None:
    assert alice_browser.get("/api/sso/confirm?next=//evil.example/")["Location"] == "/"


def test_other_methods_on_the_confirmation_page_get_405(alice_browser: Client) -> None:
    response = alice_browser.options(CONFIRM)
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD, POST"


def test_without_the_sso_urls_a_switch_from_elsewhere_is_refused(
    alice_browser: Client, issue: Any, bob: Any
) -> None:
    token = issue("bob@example.com")
    with override_settings(ROOT_URLCONF="core.urls"):
        response = alice_browser.get(f"/projects/?token={token}", HTTP_SEC_FETCH_SITE="cross-site")
    assert response["Location"] == "/projects/"
    assert whoami(alice_browser) == "alice@example.com"


def fail_on(*fragments: str) -> Any:
    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if all(fragment in sql for fragment in fragments):
            raise OperationalError("connection lost")
        return execute(sql, params, many, context)

    return wrapper


def test_a_database_outage_while_holding_a_switch_ends_the_other_users_session(
    alice_browser: Client, issue: Any, bob: Any
) -> None:
    token = issue("bob@example.com")
    with connection.execute_wrapper(fail_on("label_studio_sso_redeemedtoken")):
        response = alice_browser.get(f"/projects/?token={token}", HTTP_SEC_FETCH_SITE="cross-site")
    assert response["X-Label-Studio-SSO"] == "database-unavailable"
    assert whoami(alice_browser) is None


def test_a_database_outage_at_the_confirmation_keeps_the_user_and_switches_no_one(
    alice_browser: Client, issue: Any, bob: Any
) -> None:
    hold_switch_to_bob(alice_browser, issue)
    with connection.execute_wrapper(fail_on("UPDATE", "last_login")):
        response = csrf_post(alice_browser, CONFIRM, {"choice": "switch"}, **SAME_ORIGIN)
    assert response["X-Label-Studio-SSO"] == "database-unavailable"
    assert whoami(alice_browser) == "alice@example.com"
