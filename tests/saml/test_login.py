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


def test_entra_id_claim_uris_map_email_names_and_groups(saml: Any, settings: Any) -> None:
    from users.models import User

    settings.SSO_STAFF_GROUPS = ("ls-admins",)
    browser = Client()

    assert refusal(sign_in(browser, saml, "alice")) is None
    alice = User.objects.get(email="alice@example.com")
    assert (alice.first_name, alice.last_name, alice.is_staff) == ("Alice", "Idp", True)


def test_a_user_outside_the_required_groups_is_refused_and_not_created(saml: Any, settings: Any) -> None:
    from users.models import User

    settings.SSO_REQUIRED_GROUPS = ("ls-admins",)
    browser = Client()

    assert refusal(sign_in(browser, saml, "erin")) == "not-in-required-group"
    assert whoami(browser) is None
    assert not User.objects.filter(email="erin@example.com").exists()
    assert refusal(sign_in(Client(), saml, "alice")) is None


def test_a_second_user_signs_in_over_the_first_ones_session(saml: Any) -> None:
    """Another person at the same browser: the IdP's page posts from its own origin, with the
    session cookie (as a SameSite=None deployment sends it); the session is replaced."""
    browser = Client()
    sign_in(browser, saml, "erin")
    assert whoami(browser) == "erin@example.com"

    fields = saml.sign_in(authn_request_url(browser), "alice")
    response = browser.post("/sso/saml/acs/", fields, HTTP_ORIGIN=saml.base_url)

    assert refusal(response) is None and whoami(browser) == "alice@example.com"


def test_the_name_id_alone_signs_in_when_it_is_an_email(saml: Any) -> None:
    browser = Client()

    assert refusal(sign_in(browser, saml, "nameonly")) is None
    assert whoami(browser) == "nameonly@example.com"


def test_our_metadata_names_the_entity_id_and_the_acs(saml: Any) -> None:
    response = Client().get("/sso/saml/metadata/")
    body = response.content.decode()

    assert response.status_code == 200
    assert response["Content-Type"] == "application/samlmetadata+xml"
    assert 'entityID="http://testserver/sso/saml/metadata/"' in body
    assert 'Location="http://testserver/sso/saml/acs/"' in body
    assert "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" in body


def test_our_metadata_publishes_both_certificates_while_one_replaces_the_other(
    saml: Any, settings: Any, tmp_path: Any
) -> None:
    from tests.support.saml import make_key_pair

    current, upcoming = make_key_pair(tmp_path, "sp-current"), make_key_pair(tmp_path, "sp-upcoming")
    settings.SSO_SAML_SP_CERT = current.certificate_pem + upcoming.certificate_pem
    settings.SSO_SAML_SP_KEY = current.key_file.read_text()

    body = Client().get("/sso/saml/metadata/").content.decode()

    def base64_body(pem: str) -> str:
        return "".join(pem.strip().splitlines()[1:-1])

    assert base64_body(current.certificate_pem) in body
    assert base64_body(upcoming.certificate_pem) in body
    assert 'AuthnRequestsSigned="true"' in body


def test_a_metadata_file_works_like_the_url(saml: Any, settings: Any, tmp_path: Any) -> None:
    from label_studio_sso.saml.metadata import forget_metadata

    metadata = tmp_path / "idp-metadata.xml"
    metadata.write_bytes(saml.http().get(saml.metadata_url, timeout=10).content)
    settings.SSO_SAML_IDP_METADATA_URL = None
    settings.SSO_SAML_IDP_METADATA_FILE = str(metadata)
    forget_metadata()
    browser = Client()

    assert refusal(sign_in(browser, saml, "erin")) is None
    assert whoami(browser) == "erin@example.com"
