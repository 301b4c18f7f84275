"""Logout both ways: Label Studio's logout continues at the provider (RP-initiated), and the
provider's back-channel logout ends the user's Label Studio sessions.

The back-channel tokens here are signed with the provider's own key, as the provider signs
them; the provider itself sending one to a running Label Studio is in the end-to-end tests.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import jwt as pyjwt
import pytest
from django.test import Client

from tests.support.label_studio import logged_in_browser, whoami
from tests.support.oidc import CLIENT_ID, OTHER_CLIENT_ID, SigningKey, authorization_parameters, sign_in

BACKCHANNEL = "/sso/oidc/backchannel-logout/"


@pytest.fixture
def erin_browser(oidc: Any, settings: Any) -> Client:
    """A browser signed in as erin through the provider (erin created on first sign-in)."""
    settings.SSO_CREATE_USERS = True
    browser = Client()
    assert sign_in(browser, oidc, "erin").response["Location"] == "/projects/"
    assert whoami(browser) == "erin@example.com"
    return browser


def id_token_claims_of(browser: Client) -> dict[str, Any]:
    from label_studio_sso.oidc.views import SESSION_ID_TOKEN_KEY

    return pyjwt.decode(browser.session[SESSION_ID_TOKEN_KEY], options={"verify_signature": False})


def test_logging_out_continues_at_the_providers_end_session_endpoint(oidc: Any, erin_browser: Client) -> None:
    id_token = erin_browser.session["sso_oidc_id_token"]

    response = erin_browser.get("/logout")

    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith(oidc.discovery()["end_session_endpoint"] + "?")
    parameters = authorization_parameters(location)
    assert parameters["id_token_hint"] == id_token
    assert parameters["post_logout_redirect_uri"] == "http://testserver/user/login/"
    assert parameters["client_id"] == CLIENT_ID
    assert response["Referrer-Policy"] == "no-referrer"
    assert whoami(erin_browser) is None
    # The provider accepts it: its own logout confirmation, not an error page.
    confirm = oidc.http().get(location, allow_redirects=False, timeout=10)
    assert confirm.status_code == 200 and "/session/end/confirm" in confirm.text


def test_a_password_session_logs_out_as_label_studio_does(oidc: Any, make_user: Any) -> None:
    make_user("alice@example.com")
    browser = logged_in_browser("alice@example.com", "Member-password-123")

    response = browser.get("/logout")

    assert response["Location"] == "/"
    assert whoami(browser) is None


def test_a_provider_without_an_end_session_endpoint_leaves_label_studios_logout(
    oidc: Any, erin_browser: Client
) -> None:
    from label_studio_sso.oidc.provider import forget_clients

    oidc.advertise(end_session_endpoint=None)
    forget_clients()

    response = erin_browser.get("/logout")

    assert response["Location"] == "/"
    assert whoami(erin_browser) is None


def post_logout_token(token: str) -> Any:
    return Client().post(BACKCHANNEL, {"logout_token": token})


def test_the_providers_logout_token_ends_every_session_of_that_user(
    oidc: Any, erin_browser: Client, caplog: pytest.LogCaptureFixture
) -> None:
    from users.models import User

    second = Client()
    sign_in(second, oidc, "erin")
    sid = id_token_claims_of(erin_browser)["sid"]
    erin = User.objects.get(email="erin@example.com")

    with caplog.at_level(logging.INFO, logger="label_studio_sso.audit"):
        response = post_logout_token(oidc.key.sign(oidc.logout_token(sub="erin", sid=sid), typ="logout+jwt"))

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert whoami(erin_browser) is None and whoami(second) is None
    assert f"sso sessions ended: user_id={erin.pk} cause=oidc-backchannel-logout" in caplog.text


@pytest.mark.parametrize("names", ["sid", "sub"])
def test_a_logout_token_may_name_the_session_or_the_user_alone(
    oidc: Any, erin_browser: Client, names: str
) -> None:
    sid = id_token_claims_of(erin_browser)["sid"]
    claims = oidc.logout_token(sub=None, sid=sid) if names == "sid" else oidc.logout_token(sub="erin")

    assert post_logout_token(oidc.key.sign(claims)).status_code == 200
    assert whoami(erin_browser) is None


def test_a_logout_token_for_someone_else_ends_nobody(oidc: Any, erin_browser: Client, make_user: Any) -> None:
    response = post_logout_token(oidc.key.sign(oidc.logout_token(sub="alice", sid="another-session")))

    assert response.status_code == 200  # valid, and nothing of ours to end
    assert whoami(erin_browser) == "erin@example.com"


def signed(oidc: Any, **changes: Any) -> str:
    changes.setdefault("sub", "erin")
    return oidc.key.sign(oidc.logout_token(**changes))


STRANGER = SigningKey.generate("stranger-key")
HOSTILE_LOGOUT_TOKENS = {
    "nonce present": lambda oidc: signed(oidc, nonce="n"),
    "no events": lambda oidc: signed(oidc, events=None),
    "events without the logout member": lambda oidc: signed(oidc, events={"urn:other": {}}),
    "logout event not an object": lambda oidc: signed(
        oidc, events={"http://schemas.openid.net/event/backchannel-logout": "yes"}
    ),
    "neither sub nor sid": lambda oidc: oidc.key.sign(oidc.logout_token(sub=None, sid=None)),
    "wrong audience": lambda oidc: signed(oidc, aud=OTHER_CLIENT_ID),
    "wrong issuer": lambda oidc: signed(oidc, iss="https://idp.evil.test"),
    "expired": lambda oidc: signed(oidc, iat=int(time.time()) - 7200, exp=int(time.time()) - 3600),
    "no exp": lambda oidc: signed(oidc, exp=None),
    "no iat": lambda oidc: signed(oidc, iat=None),
    "no jti": lambda oidc: signed(oidc, jti=None),
    "sub not text": lambda oidc: signed(oidc, sub=12),
    "alg none": lambda oidc: pyjwt.encode(oidc.logout_token(sub="erin"), None, algorithm="none"),
    "a stranger's key": lambda oidc: STRANGER.sign(oidc.logout_token(sub="erin")),
    "a stranger's key with the provider's kid": lambda oidc: SigningKey(oidc.key.kid, STRANGER.private).sign(
        oidc.logout_token(sub="erin")
    ),
    "not a JWT": lambda oidc: "logout",
    "empty": lambda oidc: "",
    "too long": lambda oidc: "a" * 9000,
}


@pytest.mark.parametrize("case", sorted(HOSTILE_LOGOUT_TOKENS))
def test_a_hostile_logout_token_is_refused_and_ends_nothing(
    oidc: Any, erin_browser: Client, case: str, caplog: pytest.LogCaptureFixture
) -> None:
    oidc.advertise(id_token_signing_alg_values_supported=["none", "HS256", "RS256"])
    token = HOSTILE_LOGOUT_TOKENS[case](oidc)

    with caplog.at_level(logging.INFO, logger="label_studio_sso.audit"):
        response = post_logout_token(token)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert whoami(erin_browser) == "erin@example.com"
    assert "sso back-channel logout refused: reason=" in caplog.text
    if len(token) > 20:
        assert token not in caplog.text


def test_a_replayed_logout_token_is_refused(oidc: Any, erin_browser: Client) -> None:
    token = signed(oidc)
    assert post_logout_token(token).status_code == 200
    sign_in(erin_browser, oidc, "erin")

    assert post_logout_token(token).status_code == 400
    assert whoami(erin_browser) == "erin@example.com"


def test_the_endpoint_wants_a_post_and_a_configured_provider(oidc: Any, settings: Any) -> None:
    get = Client().get(BACKCHANNEL)
    assert get.status_code == 405 and get["Allow"] == "POST"
    settings.SSO_OIDC_ISSUER = None
    assert Client().post(BACKCHANNEL, {"logout_token": "x"}).status_code == 404


def test_the_keys_unreachable_answers_503_not_500(oidc: Any, settings: Any, erin_browser: Client) -> None:
    from label_studio_sso.oidc.provider import forget_clients
    from tests.support.processes import free_port

    token = signed(oidc)
    settings.SSO_OIDC_ISSUER = f"https://localhost:{free_port()}"
    forget_clients()

    response = post_logout_token(token)

    assert response.status_code == 503
    assert whoami(erin_browser) == "erin@example.com"
