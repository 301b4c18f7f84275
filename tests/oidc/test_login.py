"""OpenID Connect sign-in against a real provider (oidc-provider from npm, over HTTPS).

The Django test client is the browser on Label Studio's side; the provider's own sign-in
page is driven over HTTP as a browser would. Label Studio's server calls the provider for
real: discovery, the code exchange, the keys, userinfo.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.test import Client

from tests.support.label_studio import whoami
from tests.support.oidc import ACCOUNTS, CLIENT_ID, authorization_parameters, begin_sign_in, sign_in

pytestmark = pytest.mark.usefixtures("oidc")


def users_named(email: str) -> int:
    from users.models import User

    return User.objects.filter(email__iexact=email).count()


def test_the_login_page_offers_the_provider_and_keeps_the_password_form() -> None:
    page = Client().get("/user/login/?next=/projects/3/data").content.decode()

    assert "Sign in with Example IdP" in page
    assert 'href="/sso/oidc/login/?next=%2Fprojects%2F3%2Fdata"' in page
    assert 'name="password"' in page


def test_without_an_issuer_there_is_no_button_and_no_route(settings: Any) -> None:
    settings.SSO_OIDC_ISSUER = None

    assert "Sign in with" not in Client().get("/user/login/").content.decode()
    assert Client().get("/sso/oidc/login/").status_code == 404
    assert Client().get("/sso/oidc/callback/?code=x&state=y").status_code == 404


def test_the_authorization_request_uses_pkce_state_and_nonce(oidc: Any) -> None:
    url = begin_sign_in(Client())
    parameters = authorization_parameters(url)

    assert url.startswith(oidc.discovery()["authorization_endpoint"])
    assert parameters["client_id"] == CLIENT_ID
    assert parameters["response_type"] == "code"
    assert parameters["scope"] == "openid email profile"
    assert parameters["code_challenge_method"] == "S256"
    assert len(parameters["code_challenge"]) == 43  # base64url SHA-256, never the plain verifier
    assert len(parameters["state"]) >= 20 and len(parameters["nonce"]) >= 20
    assert parameters["redirect_uri"] == "http://testserver/sso/oidc/callback/"


def test_a_new_user_signs_in_and_is_created_with_the_providers_names(
    oidc: Any, settings: Any, organization_owner: Any, caplog: pytest.LogCaptureFixture
) -> None:
    from users.models import User

    settings.SSO_CREATE_USERS = True
    browser = Client()
    with caplog.at_level(logging.DEBUG):
        result = sign_in(browser, oidc, "erin", next_path="/projects/?page=2")

    assert result.response.status_code == 302
    assert result.response["Location"] == "/projects/?page=2"
    assert whoami(browser) == "erin@example.com"
    erin = User.objects.get(email="erin@example.com")
    assert (erin.first_name, erin.last_name) == ("Erin", "Example")
    assert not erin.has_usable_password()
    assert organization_owner.active_organization.has_user(erin)
    assert f"sso user created: user_id={erin.pk} via=oidc" in caplog.text
    assert f"sso login succeeded: user_id={erin.pk} via=oidc created=yes" in caplog.text
    server_side = server_log(caplog)
    assert authorization_parameters(result.callback_url)["code"] not in server_side
    assert result.nonce not in server_side
    assert authorization_parameters(result.authorization_url)["state"] not in server_side


def server_log(caplog: pytest.LogCaptureFixture) -> str:
    """Every line Label Studio's side logged (the test's own browsing at the provider left out)."""
    return "\n".join(
        record.getMessage()
        for record in caplog.records
        if not (
            record.name.startswith("urllib3")
            and ("/auth" in record.getMessage() or "/interaction" in record.getMessage())
        )
    )


def test_an_existing_user_is_refreshed_from_the_claims_on_each_sign_in(
    oidc: Any, settings: Any, make_user: Any
) -> None:
    settings.SSO_STAFF_GROUPS = "ls-admins"
    alice = make_user("Alice@Example.com")
    browser = Client()

    result = sign_in(browser, oidc, "alice")

    assert result.response.status_code == 302
    assert whoami(browser) == alice.email
    alice.refresh_from_db()
    assert (alice.first_name, alice.last_name, alice.is_staff) == ("Alice", "Provider", True)
    assert users_named("alice@example.com") == 1


def test_a_deactivated_user_is_refused_and_stays_as_label_studio_left_them(
    oidc: Any, settings: Any, make_user: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings.SSO_CREATE_USERS = True
    alice = make_user("alice@example.com", active=False)
    browser = Client()

    with caplog.at_level(logging.INFO, logger="label_studio_sso.audit"):
        result = sign_in(browser, oidc, "alice")

    assert login_page_refusal(result.response) == "user-inactive"
    assert whoami(browser) is None
    alice.refresh_from_db()
    assert not alice.is_active and alice.first_name == ""
    assert "sso login succeeded" not in caplog.text


def login_page_refusal(response: Any) -> str:
    """The reason a refused sign-in put on the login page's URL (and the sentence it shows)."""
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith("/user/login/?next=")
    return authorization_parameters(location)["sso_error"]


@pytest.mark.parametrize(
    ("login", "creating", "reason"),
    [
        ("erin", False, "user-creation-off"),
        ("ursula", True, "email-not-verified"),
        ("nomail", True, "missing-claim"),
    ],
)
def test_identities_we_do_not_accept_end_on_the_login_page_with_nothing_created(
    oidc: Any, settings: Any, login: str, creating: bool, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings.SSO_CREATE_USERS = creating
    browser = Client()

    with caplog.at_level(logging.INFO, logger="label_studio_sso.audit"):
        result = sign_in(browser, oidc, login)

    assert login_page_refusal(result.response) == reason
    assert whoami(browser) is None
    assert users_named(ACCOUNTS[login].get("email", "-")) == 0
    assert f"sso login refused: reason={reason} via=oidc" in caplog.text
    page = browser.get(result.response["Location"]).content.decode()
    assert 'class="error sso-error"' in page
