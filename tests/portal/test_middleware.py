"""Cookie and URL logins through Label Studio's full middleware stack."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client, override_settings

from label_studio_sso.sessions import SESSION_LAST_LOGIN_KEY
from tests.support.label_studio import legacy_token_of, whoami


def test_cookie_token_logs_in_deletes_the_cookie_and_reloads_the_same_url(issue: Any, alice: Any) -> None:
    browser = Client()
    browser.cookies["ls_auth_token"] = issue("alice@example.com")

    response = browser.get("/projects/?page=2")

    assert response.status_code == 302
    assert response["Location"] == "/projects/?page=2"
    assert response["X-Label-Studio-SSO"] == "logged-in"
    assert response.cookies["ls_auth_token"].value == ""
    assert response.cookies["ls_auth_token"]["max-age"] == 0
    assert response["Cache-Control"] == "no-store"
    assert whoami(browser) == "alice@example.com"


@pytest.mark.parametrize("path", ["/projects", "/projects/1/data", "/api/current-user/whoami"])
def test_a_cookie_login_survives_label_studios_slash_appending_reruns(
    issue: Any, alice: Any, path: str
) -> None:
    browser = Client()
    browser.cookies["ls_auth_token"] = issue("alice@example.com")

    response = browser.get(path, follow=True)

    assert response.redirect_chain[0] == (path, 302)
    assert not response.redirect_chain[-1][0].startswith("/user/login")
    assert whoami(browser) == "alice@example.com"


def test_later_requests_are_an_ordinary_session_without_sso_headers(issue: Any, alice: Any) -> None:
    browser = Client()
    browser.cookies["ls_auth_token"] = issue("alice@example.com")
    browser.get("/api/current-user/whoami")

    later = browser.get("/api/projects/")

    assert later.status_code == 200
    assert "X-Label-Studio-SSO" not in later
    assert "ls_auth_token" not in later.cookies


@pytest.mark.parametrize(
    ("path", "query", "location"),
    [
        ("/projects/3/data", "tab=2&token={token}&labeling=1", "/projects/3/data?tab=2&labeling=1"),
        ("/projects/", "token={token}", "/projects/"),
    ],
)
def test_url_token_is_stripped_by_a_redirect_that_keeps_every_other_parameter(
    issue: Any, alice: Any, path: str, query: str, location: str
) -> None:
    browser = Client()
    token = issue("alice@example.com")

    response = browser.get(f"{path}?{query.format(token=token)}")

    assert response.status_code == 302
    assert response["Location"] == location
    assert response["X-Label-Studio-SSO"] == "logged-in"
    assert response["Referrer-Policy"] == "no-referrer"
    assert whoami(browser) == "alice@example.com"


def test_redirect_cannot_leave_the_site_through_a_double_slash_path(issue: Any, alice: Any) -> None:
    """A path beginning ``//`` would be another host in a Location header. (The test client
    would read ``//evil.example/`` as a host, so the path is set as the server sees it.)"""
    browser = Client()
    response = browser.get(
        "/", QUERY_STRING=f"token={issue('alice@example.com')}", PATH_INFO="//evil.example/"
    )
    assert response.status_code == 302
    assert response["Location"] == "/%2Fevil.example/"


def test_user_switching_replaces_the_previous_users_session(issue: Any, alice: Any, bob: Any) -> None:
    browser = Client()
    browser.get(f"/?token={issue('alice@example.com')}")
    alice_session = browser.cookies["sessionid"].value

    browser.get(f"/?token={issue('bob@example.com')}", HTTP_SEC_FETCH_SITE="same-site")  # the portal

    assert whoami(browser) == "bob@example.com"
    assert browser.cookies["sessionid"].value != alice_session


def test_login_gets_a_new_session_key_and_survives_label_studios_inactivity_check(
    issue: Any, alice: Any
) -> None:
    browser = Client()
    browser.get("/user/login/")
    anonymous_session = browser.cookies["sessionid"].value

    browser.get(f"/?token={issue('alice@example.com')}")

    assert browser.cookies["sessionid"].value != anonymous_session
    assert SESSION_LAST_LOGIN_KEY in browser.session
    assert whoami(browser) == "alice@example.com"


def test_replayed_url_token_gives_no_session(issue: Any, alice: Any) -> None:
    token = issue("alice@example.com")
    Client().get(f"/?token={token}")

    thief = Client()
    response = thief.get(f"/?token={token}")

    assert response.status_code == 302
    assert response["X-Label-Studio-SSO"] == "replayed"
    assert whoami(thief) is None


def test_replayed_cookie_token_gives_no_session_and_is_deleted(issue: Any, alice: Any) -> None:
    token = issue("alice@example.com")
    first = Client()
    first.cookies["ls_auth_token"] = token
    first.get("/api/current-user/whoami")

    thief = Client()
    thief.cookies["ls_auth_token"] = token
    response = thief.get("/api/current-user/whoami")

    assert response.status_code == 401
    assert response["X-Label-Studio-SSO"] == "replayed"
    assert response.cookies["ls_auth_token"].value == ""


def test_a_token_this_session_already_redeemed_is_a_no_op_not_a_logout(issue: Any, alice: Any) -> None:
    browser = Client()
    token = issue("alice@example.com")
    browser.get(f"/?token={token}")

    browser.cookies["ls_auth_token"] = token  # e.g. a cookie the portal set twice
    response = browser.get("/api/current-user/whoami")

    assert response.status_code == 200
    assert response["X-Label-Studio-SSO"] == "already-logged-in"
    assert whoami(browser) == "alice@example.com"


@pytest.mark.parametrize("bad_token", ["a.b.c", "eyJhbGciOiJub25lIn0.e30.", "x" * 4097 + ".a.b"])
def test_a_bad_token_never_changes_an_existing_session(issue: Any, alice: Any, bad_token: str) -> None:
    browser = Client()
    browser.get(f"/?token={issue('alice@example.com')}")
    session_before = browser.cookies["sessionid"].value

    response = browser.get(f"/projects/?token={bad_token}")

    assert response.status_code == 302
    assert response["Location"] == "/projects/"
    assert response["X-Label-Studio-SSO"] in ("malformed-token", "token-too-large")
    assert browser.cookies["sessionid"].value == session_before
    assert whoami(browser) == "alice@example.com"


def test_a_bad_cookie_token_is_deleted_and_the_page_still_answers(alice: Any) -> None:
    browser = Client()
    browser.cookies["ls_auth_token"] = "not-a-token"

    response = browser.get("/user/login/")

    assert response.status_code == 200
    assert response["X-Label-Studio-SSO"] == "malformed-token"
    assert response.cookies["ls_auth_token"].value == ""


def test_two_url_tokens_are_refused_as_ambiguous(issue: Any, alice: Any, bob: Any) -> None:
    browser = Client()
    response = browser.get(f"/?token={issue('alice@example.com')}&token={issue('bob@example.com')}")
    assert response["X-Label-Studio-SSO"] == "ambiguous-token"
    assert response["Location"] == "/"
    assert whoami(browser) is None


def test_url_token_wins_over_a_cookie_token_and_both_are_removed(issue: Any, alice: Any, bob: Any) -> None:
    browser = Client()
    browser.cookies["ls_auth_token"] = issue("bob@example.com")

    response = browser.get(f"/?token={issue('alice@example.com')}")

    assert response.cookies["ls_auth_token"].value == ""
    assert whoami(browser) == "alice@example.com"


def test_tokens_on_unsafe_methods_are_ignored(issue: Any, alice: Any) -> None:
    browser = Client()
    browser.cookies["ls_auth_token"] = issue("alice@example.com")

    response = browser.post("/api/projects/", {}, HTTP_ORIGIN="http://testserver")

    assert "X-Label-Studio-SSO" not in response
    assert "_auth_user_id" not in browser.session  # this browser was not logged in by the POST


@override_settings(JWT_SSO_COOKIE_NAME="", JWT_SSO_TOKEN_PARAM="")
def test_both_transports_can_be_switched_off(issue: Any, alice: Any) -> None:
    browser = Client()
    browser.cookies["ls_auth_token"] = issue("alice@example.com")

    response = browser.get(f"/api/current-user/whoami?token={issue('alice@example.com')}")

    assert response.status_code == 401
    assert "X-Label-Studio-SSO" not in response


@override_settings(
    JWT_SSO_COOKIE_NAME="portal_sso", JWT_SSO_COOKIE_PATH="/app", JWT_SSO_COOKIE_DOMAIN=".example.com"
)
def test_the_cookie_is_deleted_with_the_configured_name_path_and_domain(issue: Any, alice: Any) -> None:
    browser = Client()
    browser.cookies["portal_sso"] = issue("alice@example.com")

    response = browser.get("/api/current-user/whoami")

    cookie = response.cookies["portal_sso"]
    assert whoami(browser) == "alice@example.com"
    assert (cookie.value, cookie["path"], cookie["domain"]) == ("", "/app", ".example.com")


@override_settings(JWT_SSO_TOKEN_PARAM="sso")
def test_the_url_parameter_name_is_configurable(issue: Any, alice: Any) -> None:
    browser = Client()
    response = browser.get(f"/projects/?token=kept&sso={issue('alice@example.com')}")
    assert response["Location"] == "/projects/?token=kept"
    assert whoami(browser) == "alice@example.com"


def test_over_https_the_cookie_is_deleted_as_a_cross_site_cookie(issue: Any, alice: Any) -> None:
    browser = Client()
    browser.cookies["ls_auth_token"] = issue("alice@example.com")

    response = browser.get("/api/current-user/whoami", secure=True)

    cookie = response.cookies["ls_auth_token"]
    assert cookie["samesite"] == "None"
    assert cookie["secure"] is True


def _deactivate(user: Any) -> None:
    user.is_active = False
    user.save(update_fields=["is_active"])


def _change_email(user: Any) -> None:
    user.email = "someone-else@example.com"
    user.save(update_fields=["email"])


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (_deactivate, "user-inactive"),
        (lambda user: user.delete(), "user-not-found"),
        (_change_email, "user-not-found"),
    ],
    ids=["deactivated", "deleted", "email changed (the id may now be someone else's)"],
)
def test_a_token_for_a_user_changed_since_issuance_gives_no_session(
    issue: Any, alice: Any, change: Any, reason: str
) -> None:
    token = issue("alice@example.com")
    change(alice)

    browser = Client()
    response = browser.get(f"/?token={token}")

    assert response["X-Label-Studio-SSO"] == reason
    assert whoami(browser) is None


def test_a_member_removed_from_the_organization_gets_no_session(
    issue: Any, organization_owner: Any, alice: Any
) -> None:
    token = issue("alice@example.com")
    admin = Client()
    admin.get(f"/?token={issue('owner@example.com')}")
    organization = organization_owner.active_organization
    removed = admin.delete(
        f"/api/organizations/{organization.pk}/memberships/{alice.pk}/", HTTP_ORIGIN="http://testserver"
    )
    assert removed.status_code == 204

    browser = Client()
    response = browser.get(f"/?token={token}")

    assert response["X-Label-Studio-SSO"] == "user-deleted"
    assert whoami(browser) is None


def test_a_user_without_an_active_organization_gets_their_live_one(issue: Any, alice: Any) -> None:
    token = issue("alice@example.com")
    organization = alice.active_organization
    alice.active_organization = None
    alice.save(update_fields=["active_organization"])

    response = Client().get(f"/?token={token}")

    alice.refresh_from_db()
    assert response["X-Label-Studio-SSO"] == "logged-in"
    assert alice.active_organization == organization


def test_a_user_without_an_active_organization_gets_label_studios_default(issue: Any, alice: Any) -> None:
    token = issue("alice@example.com")
    alice.active_organization = None
    alice.save(update_fields=["active_organization"])

    browser = Client()
    browser.get(f"/?token={token}")

    alice.refresh_from_db()
    assert alice.active_organization is not None
    assert whoami(browser) == "alice@example.com"


def test_without_the_sso_urls_url_tokens_still_log_in(issue: Any, alice: Any) -> None:
    token = issue("alice@example.com")
    browser = Client()
    with override_settings(ROOT_URLCONF="core.urls"):
        response = browser.get(f"/projects/?token={token}")
    assert response["X-Label-Studio-SSO"] == "logged-in"


def test_label_studios_invite_link_keeps_its_organization_token(organization_owner: Any) -> None:
    invite = Client().get("/api/invite", HTTP_AUTHORIZATION=f"Token {legacy_token_of(organization_owner)}")
    assert invite.status_code == 200, invite.content
    signup_path = invite.json()["invite_url"]
    organization_token = organization_owner.active_organization.token
    assert f"token={organization_token}" in signup_path

    page = Client().get(signup_path)

    assert page.status_code == 200
    assert "X-Label-Studio-SSO" not in page
    assert organization_token in page.content.decode()  # the sign-up form still carries the invitation


@pytest.mark.parametrize("value", ["0123456789abcdefABCDEF0123456789abcdefAB", "not-ours", "a.b", ""])
def test_a_token_parameter_that_cannot_be_a_login_token_is_left_alone(alice: Any, value: str) -> None:
    response = Client().get(f"/user/login/?token={value}")
    assert response.status_code == 200
    assert "X-Label-Studio-SSO" not in response
