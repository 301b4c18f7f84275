"""An instance with no organization yet (a fresh image configured with only a gateway or a
portal, no LABEL_STUDIO_USERNAME): the first user a way in creates makes the organization and
owns it, as Label Studio's own sign-up does; everyone after joins it."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.support.gateway import PORTAL_AUDIENCE, PORTAL_ISSUER
from tests.support.label_studio import whoami


@pytest.fixture
def empty_instance(settings: Any) -> None:
    from organizations.models import Organization

    settings.SSO_CREATE_USERS = True
    assert not Organization.objects.exists()


def organization_of(email: str) -> Any:
    from users.models import User

    user = User.objects.get(email=email)
    assert user.active_organization is not None
    assert user.organizations.filter(pk=user.active_organization_id).exists()
    return user.active_organization


def test_the_first_gateway_user_makes_the_organization_and_the_next_joins_it(
    empty_instance: None, settings: Any
) -> None:
    from organizations.models import Organization

    settings.SSO_TRUSTED_PROXIES = "10.0.0.0/24"
    settings.SSO_PROXY_EMAIL_HEADER = "X-Forwarded-Email"
    first, second = Client(REMOTE_ADDR="10.0.0.5"), Client(REMOTE_ADDR="10.0.0.5")

    answers = [
        browser.get("/api/current-user/whoami", headers={"X-Forwarded-Email": email})
        for browser, email in ((first, "Founder@Example.com"), (second, "member@example.com"))
    ]

    assert [answer.status_code for answer in answers] == [200, 200]
    organization = organization_of("founder@example.com")
    assert organization.created_by.email == "founder@example.com"
    assert organization_of("member@example.com") == organization
    assert Organization.objects.count() == 1


def test_the_first_portal_signed_login_makes_the_organization(
    empty_instance: None, settings: Any, signer: Any
) -> None:
    settings.SSO_ISSUER_JWKS_URL = signer.jwks_url
    settings.SSO_ISSUER = PORTAL_ISSUER
    settings.SSO_ISSUER_AUDIENCE = PORTAL_AUDIENCE
    browser = Client()

    response = browser.get("/api/sso/login", {"token": signer.sign(signer.portal_claims("dana@example.com"))})

    assert response["X-Label-Studio-SSO"] == "logged-in"
    assert whoami(browser) == "dana@example.com"
    assert organization_of("dana@example.com").created_by.email == "dana@example.com"


def test_an_organization_named_by_sso_organization_is_never_made(empty_instance: None, settings: Any) -> None:
    settings.SSO_TRUSTED_PROXIES = "10.0.0.0/24"
    settings.SSO_PROXY_EMAIL_HEADER = "X-Forwarded-Email"
    settings.SSO_ORGANIZATION = 7

    response = Client(REMOTE_ADDR="10.0.0.5").get(
        "/api/current-user/whoami", headers={"X-Forwarded-Email": "dana@example.com"}
    )

    assert (response.status_code, response["X-Label-Studio-SSO"]) == (403, "no-organization")
