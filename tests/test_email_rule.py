"""The one email rule, through every way in: the whole look-alike corpus either reaches the
account whose address it is in ASCII case, or is refused as ``invalid-email`` with nothing
created; and a created user's address is stored byte for byte in the rule's stored form.

Users may be created in every test here, so a refusal is never for want of an account.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from confusable_emails import CASES, TARGETS
from django.test import Client
from gateway_support import ASSERTION_AUDIENCE, ASSERTION_ISSUER, PORTAL_AUDIENCE, PORTAL_ISSUER
from oidc_support import authorization_parameters, sign_in
from scim_support import TOKEN, Scim, okta_user, scim_error
from sso_support import whoami

from label_studio_sso.login_tokens import verify_login_token

REFUSED = "invalid-email"
EXPECTED = {sent: reaches or REFUSED for sent, reaches in CASES}
GATEWAY = "10.0.0.5"


@pytest.fixture
def targets(make_user: Callable[..., Any], settings: Any) -> dict[str, Any]:
    settings.SSO_CREATE_USERS = True
    return {email: make_user(email) for email in TARGETS}


def user_emails() -> list[str]:
    from users.models import User

    return sorted(User.objects.values_list("email", flat=True))


def through_every_case(way_in: Callable[[str], str]) -> dict[str, str]:
    """``way_in(sent)``: the email of the user it landed in, or the reason it was refused."""
    before = user_emails()
    reached = {sent: way_in(sent) for sent, _ in CASES}
    assert user_emails() == before, "a look-alike created a user"
    return reached


def as_wsgi_header(value: str) -> str:
    """What a WSGI server hands Django for a header the gateway sent in UTF-8 (Latin-1 text)."""
    return value.encode("utf-8").decode("latin-1")


def via_gateway(headers: dict[str, str]) -> str:
    """Whom a request the gateway forwards with ``headers`` is, or the reason it was refused."""
    response = Client(REMOTE_ADDR=GATEWAY).get("/api/current-user/whoami", headers=headers)
    if response.status_code != 200:
        return str(response["X-Label-Studio-SSO"])
    return str(response.json()["email"])


def test_the_token_api_finds_or_creates_no_look_alike(
    api: Any, owner_token: str, targets: dict[str, Any]
) -> None:
    def token_api(sent: str) -> str:
        response = api({"email": sent, "create": True}, auth=f"Token {owner_token}")
        if response.status_code != 200:
            assert response.json()["error_code"] == "INVALID_EMAIL", (sent, response.content)
            return REFUSED
        return str(verify_login_token(response.json()["token"]).email)

    assert through_every_case(token_api) == EXPECTED


def test_gateway_headers_log_in_or_create_no_look_alike(targets: dict[str, Any], settings: Any) -> None:
    settings.SSO_TRUSTED_PROXIES = "10.0.0.0/24"
    settings.SSO_PROXY_EMAIL_HEADER = "X-Forwarded-Email"

    assert (
        through_every_case(lambda sent: via_gateway({"X-Forwarded-Email": as_wsgi_header(sent)})) == EXPECTED
    )


def test_gateway_assertions_log_in_or_create_no_look_alike(
    targets: dict[str, Any], settings: Any, signer: Any
) -> None:
    settings.SSO_TRUSTED_PROXIES = "10.0.0.0/24"
    settings.SSO_PROXY_JWT_HEADER = "Cf-Access-Jwt-Assertion"
    settings.SSO_PROXY_JWKS_URL = signer.jwks_url
    settings.SSO_PROXY_JWT_AUDIENCE = ASSERTION_AUDIENCE
    settings.SSO_PROXY_JWT_ISSUER = ASSERTION_ISSUER

    def gateway_assertion(sent: str) -> str:
        return via_gateway({"Cf-Access-Jwt-Assertion": signer.sign(signer.assertion_claims(sent))})

    assert through_every_case(gateway_assertion) == EXPECTED


def test_portal_signed_tokens_log_in_or_create_no_look_alike(
    targets: dict[str, Any], settings: Any, signer: Any
) -> None:
    settings.SSO_ISSUER_JWKS_URL = signer.jwks_url
    settings.SSO_ISSUER = PORTAL_ISSUER
    settings.SSO_ISSUER_AUDIENCE = PORTAL_AUDIENCE

    def portal_signed(sent: str) -> str:
        browser = Client()
        response = browser.get("/api/sso/login", {"token": signer.sign(signer.portal_claims(sent))})
        if response["X-Label-Studio-SSO"] != "logged-in":
            return str(response["X-Label-Studio-SSO"])
        return str(whoami(browser))

    assert through_every_case(portal_signed) == EXPECTED


def test_openid_connect_logs_in_or_creates_no_look_alike(targets: dict[str, Any], oidc: Any) -> None:
    def openid_connect(sent: str) -> str:
        browser = Client()
        result = sign_in(
            browser, oidc, id_token=lambda nonce: oidc.key.sign(oidc.id_token_claims(nonce, email=sent))
        )
        location = result.response["Location"]
        if location.startswith("/user/login/"):
            return authorization_parameters(location)["sso_error"]
        return str(whoami(browser))

    assert through_every_case(openid_connect) == EXPECTED


def test_scim_creates_no_look_alike_and_names_no_existing_account(
    targets: dict[str, Any], settings: Any
) -> None:
    settings.SSO_SCIM_TOKEN = TOKEN
    scim = Scim(Client())

    def scim_create(sent: str) -> str:
        response = scim.post("Users", okta_user(sent))
        status, kind = scim_error(response)  # an existing address is a conflict, never that account
        if (status, kind) == (409, "uniqueness"):
            return next(email for email in TARGETS if email.lower() == sent.strip().lower())
        assert (status, kind) == (400, "invalidValue"), (sent, response.content)
        return REFUSED

    assert through_every_case(scim_create) == EXPECTED


def test_a_created_users_address_is_stored_byte_for_byte_in_the_stored_form(
    api: Any, owner_token: str, settings: Any, organization_owner: Any
) -> None:
    from users.models import User

    settings.SSO_CREATE_USERS = True
    response = api(
        {"email": " Dana.O'Neil+ls@Sub.Example.CO.UK\t", "create": True}, auth=f"Token {owner_token}"
    )

    assert response.status_code == 200, response.content
    stored = User.objects.get(pk=verify_login_token(response.json()["token"]).user_id).email
    assert stored.encode("utf-8") == b"dana.o'neil+ls@sub.example.co.uk"


def test_the_domain_allow_list_judges_the_stored_form(
    api: Any, owner_token: str, settings: Any, organization_owner: Any
) -> None:
    settings.SSO_CREATE_USERS = True
    settings.SSO_ALLOWED_EMAIL_DOMAINS = "example.co.uk"

    kelvin = api({"email": "uma@example.co.u\u212a", "create": True}, auth=f"Token {owner_token}")
    upper = api({"email": "UMA@EXAMPLE.CO.UK", "create": True}, auth=f"Token {owner_token}")

    assert kelvin.json()["error_code"] == "INVALID_EMAIL"
    assert upper.status_code == 200, upper.content
    assert verify_login_token(upper.json()["token"]).email == "uma@example.co.uk"
