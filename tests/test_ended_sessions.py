"""Ending every session of a user: the logout API, Label Studio's logout, deactivation, removal.

Label Studio's sessions are signed cookies; a copy of one (``clone``) stands for the same
session in another tab, a stolen cookie or a request on another replica.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from label_studio_sso.models import SessionStamp
from label_studio_sso.sessions import SESSION_STAMP_KEY
from tests.support.label_studio import legacy_token_of, logged_in_browser, whoami

STAMP_TABLE = SessionStamp._meta.db_table


def clone(browser: Client) -> Client:
    """Another browser holding a copy of ``browser``'s cookies."""
    copy = Client()
    for name, morsel in browser.cookies.items():
        copy.cookies[name] = morsel.value
    return copy


def log_out(email: str, token: str, **extra: Any) -> Any:
    """POST /api/sso/logout like a portal's server."""
    return Client().post(
        "/api/sso/logout",
        data=json.dumps({"email": email}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {token}",
        **extra,
    )


def test_the_logout_api_ends_every_session_of_the_user_and_no_one_elses(
    alice_browser: Client, issue: Any, owner_token: str, bob: Any, caplog: pytest.LogCaptureFixture
) -> None:
    other_tab = clone(alice_browser)
    second_browser = Client()
    second_browser.get(f"/?token={issue('alice@example.com')}")
    bob_browser = Client()
    bob_browser.get(f"/?token={issue('bob@example.com')}")

    response = log_out("alice@example.com", owner_token)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"user_id", "sessions_ended_at"} and body["sessions_ended_at"].endswith("Z")
    assert response["Cache-Control"] == "no-store"
    assert [whoami(browser) for browser in (alice_browser, other_tab, second_browser)] == [None] * 3
    assert whoami(bob_browser) == "bob@example.com"
    assert f"sso sessions ended: user_id={body['user_id']} cause=logout-api" in caplog.text
    assert "sso refused an ended session" in caplog.text


def test_a_login_after_the_logout_starts_a_session_that_lives(
    alice_browser: Client, issue: Any, owner_token: str
) -> None:
    assert log_out("alice@example.com", owner_token).status_code == 200
    assert whoami(alice_browser) is None
    alice_browser.get(f"/?token={issue('alice@example.com')}")
    assert whoami(alice_browser) == "alice@example.com"
    assert whoami(alice_browser) == "alice@example.com"


def test_a_password_session_is_ended_too(organization_owner: Any, owner_token: str, alice: Any) -> None:
    browser = logged_in_browser("alice@example.com", "Member-password-123")
    assert whoami(browser) == "alice@example.com"
    assert log_out("alice@example.com", owner_token).status_code == 200
    assert whoami(browser) is None


def test_a_session_from_before_the_upgrade_lives_until_ended_and_is_then_refused(
    owner_token: str, alice: Any
) -> None:
    """Sessions Label Studio made before this app was installed carry no stamp and name its backend."""
    from django.contrib.auth import BACKEND_SESSION_KEY

    browser = logged_in_browser("alice@example.com", "Member-password-123")
    session = browser.session
    del session[SESSION_STAMP_KEY]
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session.save()
    browser.cookies["sessionid"] = session.session_key
    assert whoami(browser) == "alice@example.com"
    assert log_out("alice@example.com", owner_token).status_code == 200
    assert whoami(browser) is None


def test_label_studios_own_logout_ends_the_copies_of_that_session(alice_browser: Client) -> None:
    stolen = clone(alice_browser)
    alice_browser.get("/logout")
    assert whoami(alice_browser) is None
    assert whoami(stolen) is None


def test_removing_a_member_in_label_studio_ends_their_sessions(
    organization_owner: Any, alice_browser: Client, alice: Any
) -> None:
    owner = logged_in_browser("owner@example.com", "Owner-password-123")
    organization = organization_owner.active_organization
    response = owner.delete(
        f"/api/organizations/{organization.pk}/memberships/{alice.pk}/", HTTP_ORIGIN="http://testserver"
    )
    assert response.status_code == 204, response.content
    assert whoami(alice_browser) is None


def test_a_deactivated_user_switched_back_on_does_not_get_old_sessions_back(
    alice_browser: Client, alice: Any
) -> None:
    alice.is_active = False
    alice.save(update_fields=["is_active"])
    alice.is_active = True
    alice.save(update_fields=["is_active"])
    assert whoami(alice_browser) is None


def test_switching_users_with_a_token_leaves_the_first_users_other_sessions_alone(
    alice_browser: Client, issue: Any, bob: Any
) -> None:
    other_tab = clone(alice_browser)
    alice_browser.get(f"/?token={issue('bob@example.com')}", HTTP_SEC_FETCH_SITE="same-site")  # the portal
    assert whoami(alice_browser) == "bob@example.com"
    assert whoami(other_tab) == "alice@example.com"


def test_a_refused_token_for_someone_else_ends_only_this_browsers_session(
    alice_browser: Client, issue: Any, bob: Any
) -> None:
    """The browser is logged out (it asked to be someone else), not alice everywhere."""
    other_tab = clone(alice_browser)
    used = issue("bob@example.com")
    Client().get(f"/?token={used}")  # redeemed elsewhere: a replay from now on
    alice_browser.get(f"/?token={used}", HTTP_SEC_FETCH_SITE="same-site")
    assert whoami(alice_browser) is None
    assert whoami(other_tab) == "alice@example.com"


def test_a_settings_file_naming_only_the_login_middleware_refuses_ended_sessions_too(
    settings: Any, alice_browser: Client, owner_token: str
) -> None:
    """label-studio-sso 6.x users' settings name JWTAutoLoginMiddleware and nothing else of ours."""
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if not m.endswith(".EndedSessionMiddleware")]
    browser = clone(alice_browser)  # a new client builds its middleware from these settings
    assert whoami(browser) == "alice@example.com"
    assert log_out("alice@example.com", owner_token).status_code == 200
    assert whoami(browser) is None


def test_checking_the_stamp_costs_no_query_of_its_own(alice_browser: Client) -> None:
    """The stamp is read in the query that loads the session's user, not in one of its own."""
    alice_browser.get("/api/current-user/whoami")  # settles any one-time session upgrade
    with CaptureQueriesContext(connection) as queries:
        assert alice_browser.get("/api/current-user/whoami").status_code == 200
    touching = [query["sql"] for query in queries if STAMP_TABLE in query["sql"]]
    assert len(touching) == 1 and 'FROM "htx_user"' in touching[0], touching


def test_the_logout_api_keeps_the_token_apis_caller_rules(
    owner_token: str, alice: Any, make_user: Any
) -> None:
    from organizations.functions import create_organization
    from users.models import User

    stranger = User.objects.create_user(email="stranger@example.com", password="Stranger-password-123")
    create_organization(title="Elsewhere", created_by=stranger)
    member_token = legacy_token_of(alice)
    make_user("root@example.com", superuser=True)

    assert log_out("stranger@example.com", owner_token).json()["error_code"] == "USER_NOT_FOUND"
    assert log_out("nobody@example.com", owner_token).json()["error_code"] == "USER_NOT_FOUND"
    assert log_out("root@example.com", owner_token).json()["error_code"] == "USER_OUTRANKS_ISSUER"
    assert log_out("alice@example.com", member_token).status_code == 403
    assert Client().post("/api/sso/logout", data="{}", content_type="application/json").status_code == 401
    assert not SessionStamp.objects.exists()  # nothing was ended


def test_the_logout_api_may_end_the_sessions_of_a_deactivated_or_removed_member(
    organization_owner: Any, owner_token: str, make_user: Any
) -> None:
    make_user("gone@example.com", active=False)
    removed = make_user("removed@example.com")
    organization_owner.active_organization.members.get(user=removed).soft_delete()
    assert log_out("gone@example.com", owner_token).status_code == 200
    assert log_out("removed@example.com", owner_token).status_code == 200


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        (b"[]", "application/json", 400, "INVALID_JSON"),
        (b'{"email": ""}', "application/json", 400, "EMAIL_REQUIRED"),
        (b'{"email": "a@example.com", "email": "b@example.com"}', "application/json", 400, "INVALID_JSON"),
        (b'{"email": "alice@example.com"}', "text/plain", 415, "UNSUPPORTED_MEDIA_TYPE"),
        (b'{"email": "' + b"a" * 20_000 + b'"}', "application/json", 413, "PAYLOAD_TOO_LARGE"),
    ],
)
def test_a_bad_logout_body_gets_a_clear_4xx(
    owner_token: str, alice: Any, body: bytes, content_type: str, status: int, code: str
) -> None:
    response = Client().post(
        "/api/sso/logout", data=body, content_type=content_type, HTTP_AUTHORIZATION=f"Token {owner_token}"
    )
    assert (response.status_code, response.json()["error_code"]) == (status, code)
    assert not SessionStamp.objects.exists()


def test_the_logout_api_answers_only_post(owner_token: str) -> None:
    response = Client().get("/api/sso/logout", HTTP_AUTHORIZATION=f"Token {owner_token}")
    assert (response.status_code, response.json()["error_code"]) == (405, "METHOD_NOT_ALLOWED")


def test_the_logout_api_has_its_own_rate_limit_history(
    settings: Any, owner_token: str, alice: Any, api: Any
) -> None:
    from label_studio_sso.conf import sso_settings

    settings.SSO_RATE_LIMIT = "2/min"
    sso_settings.reload()
    assert [log_out("alice@example.com", owner_token).status_code for _ in range(3)] == [200, 200, 429]
    assert api({"email": "alice@example.com"}, auth=f"Token {owner_token}").status_code == 200


def test_logout_refusals_are_audited_as_such(owner_token: str, caplog: pytest.LogCaptureFixture) -> None:
    log_out("nobody@example.com", owner_token)
    assert "sso logout refused: issuer_id=" in caplog.text
    assert "error_code=USER_NOT_FOUND status=422" in caplog.text
    assert "nobody@example.com" not in caplog.text
