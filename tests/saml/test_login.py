"""SAML 2.0 sign-in against a real identity provider (samlify from npm, over HTTPS).

The Django test client is the browser on Label Studio's side; the IdP's sign-in page is driven
over HTTP as a browser would. Label Studio reads the IdP's metadata for real.
"""

from __future__ import annotations

import base64
import logging
import zlib
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from tests.saml.flows import authn_request_url, refusal, sign_in
from tests.support.label_studio import whoami

pytestmark = pytest.mark.usefixtures("saml")


def test_the_login_page_offers_the_identity_provider_beside_the_password_form() -> None:
    page = Client().get("/user/login/?next=/projects/3/data").content.decode()

    assert "Sign in with Example SAML" in page
    assert 'href="/sso/saml/login/?next=%2Fprojects%2F3%2Fdata"' in page
    assert 'name="password"' in page


def test_without_metadata_there_is_no_button_and_no_route(settings: Any) -> None:
    settings.SSO_SAML_IDP_METADATA_URL = None

    assert "Sign in with" not in Client().get("/user/login/").content.decode()
    assert Client().get("/sso/saml/login/").status_code == 404
    assert Client().post("/sso/saml/acs/", {"SAMLResponse": "x"}).status_code == 404
    assert Client().get("/sso/saml/metadata/").status_code == 404


def test_the_authn_request_goes_to_the_idp_by_redirect_and_names_our_acs(saml: Any) -> None:
    url = authn_request_url(Client(), "/projects/3/data")
    query = parse_qs(urlsplit(url).query)
    request_xml = zlib.decompress(base64.b64decode(query["SAMLRequest"][0]), -15).decode()

    assert url.startswith(saml.base_url + "/sso?")
    assert query["RelayState"] == ["/projects/3/data"]
    assert 'AssertionConsumerServiceURL="http://testserver/sso/saml/acs/"' in request_xml
    assert "<saml:Issuer>http://testserver/sso/saml/metadata/</saml:Issuer>" in request_xml
    assert f'Destination="{saml.base_url}/sso"' in request_xml


def test_a_new_user_signs_in_and_is_created_with_the_idps_names(
    saml: Any, organization_owner: Any, caplog: pytest.LogCaptureFixture
) -> None:
    from users.models import User

    browser = Client()
    with caplog.at_level(logging.INFO):
        response = sign_in(browser, saml, "erin", next_path="/projects/?page=2")

    assert response.status_code == 302, refusal(response)
    assert response["Location"] == "/projects/?page=2"
    assert whoami(browser) == "erin@example.com"
    erin = User.objects.get(email="erin@example.com")
    assert (erin.first_name, erin.last_name) == ("Erin", "Example")
    assert not erin.has_usable_password()
    assert organization_owner.active_organization.has_user(erin)
    assert f"sso user created: user_id={erin.pk} via=saml" in caplog.text
    assert f"sso login succeeded: user_id={erin.pk} via=saml created=yes" in caplog.text
