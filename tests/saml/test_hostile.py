"""Responses we must refuse: the hostile-input table for SAML.

The real IdP signs every response here. A hostile IdP (or someone holding a response) is
played two ways: the IdP is asked for a hostile next response (another audience, another
key, no signature, an old time window, ...), or the XML it signed is changed afterwards
(``hostile_xml``: the signature wrapping family, comments, a DTD). Every case ends on Label
Studio's login page with its reason, the browser anonymous, nothing created.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from tests.saml import hostile_xml
from tests.saml.conftest import ACS_URL
from tests.saml.flows import authn_request_url, post_to_acs, refusal, sign_in
from tests.support.label_studio import whoami
from tests.support.saml import decoded, encoded

SHA1 = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"


def user_emails() -> list[str]:
    from users.models import User

    return sorted(User.objects.values_list("email", flat=True))


def refused_with(browser: Client, response: Any, reason: str) -> None:
    assert response.status_code == 302, response.content[:300]
    assert refusal(response) == reason, response["Location"]
    assert whoami(browser) is None


# The IdP's own hostile responses: (name, overrides for its next response, reason).
SIGNED_BY_THE_IDP: list[tuple[str, dict[str, Any], str]] = [
    ("unsigned", {"sign": "none"}, "unsigned"),
    ("signed by another certificate", {"sign_with": "stranger"}, "bad-signature"),
    (
        "response signed by another certificate",
        {"sign_with": "stranger", "sign": "response"},
        "bad-signature",
    ),
    ("signed with SHA-1", {"algorithm": SHA1}, "unsupported-algorithm"),
    ("another audience", {"audience": "https://another-app.example/"}, "wrong-audience"),
    ("no audience", {"audience": ""}, "wrong-audience"),
    ("another issuer", {"issuer": "https://evil.example/metadata"}, "wrong-issuer"),
    ("destination elsewhere", {"destination": "https://evil.example/acs"}, "wrong-destination"),
    ("destination under our ACS", {"destination": ACS_URL + "evil"}, "wrong-destination"),
    ("recipient elsewhere", {"recipient": "https://evil.example/acs"}, "wrong-recipient"),
    ("recipient holding our ACS", {"recipient": "https://evil.example/?" + ACS_URL}, "wrong-recipient"),
    ("no recipient", {"recipient": ""}, "wrong-recipient"),
    ("expired", {"not_before_offset": -900, "not_on_or_after_offset": -600}, "expired"),
    ("not yet valid", {"not_before_offset": 600, "not_on_or_after_offset": 900}, "not-yet-valid"),
    ("answering another request", {"in_response_to": "_another-request"}, "state-mismatch"),
    ("status not success", {"status": "urn:oasis:names:tc:SAML:2.0:status:Requester"}, "provider-refused"),
    ("no email", {"name_id_format": "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"}, "missing-claim"),
    ("two emails", {"attributes": {"email": ["erin@example.com", "alice@example.com"]}}, "invalid-claim"),
]


@pytest.mark.parametrize(
    ("overrides", "reason"), [case[1:] for case in SIGNED_BY_THE_IDP], ids=[c[0] for c in SIGNED_BY_THE_IDP]
)
def test_a_hostile_response_signed_by_the_idp_is_refused(
    saml: Any, overrides: dict[str, Any], reason: str
) -> None:
    before = user_emails()
    browser = Client()
    saml.next_response(**overrides)

    refused_with(browser, sign_in(browser, saml, "nameonly" if reason == "missing-claim" else "erin"), reason)
    assert user_emails() == before


# Forgeries of a response the IdP signed: (name, change to its XML, reason).
FORGED: list[tuple[str, Callable[[str], str], str]] = [
    ("NameID changed after signing", hostile_xml.name_id_changed, "bad-signature"),
    ("unsigned assertion before the signed one", hostile_xml.evil_assertion_first, "invalid-response"),
    ("unsigned assertion after the signed one", hostile_xml.evil_assertion_after, "invalid-response"),
    ("signed assertion hidden in Extensions", hostile_xml.signed_assertion_in_extensions, "invalid-response"),
    (
        "signed assertion hidden in ds:Object",
        hostile_xml.signed_assertion_in_signature_object,
        "invalid-response",
    ),
    ("evil assertion with the signed ID", hostile_xml.evil_assertion_takes_the_signed_id, "invalid-response"),
    ("external entity", lambda xml: hostile_xml.with_doctype(xml, hostile_xml.XXE), "malformed-token"),
    (
        "billion laughs",
        lambda xml: hostile_xml.with_doctype(xml, hostile_xml.BILLION_LAUGHS),
        "malformed-token",
    ),
]


@pytest.mark.parametrize(("forge", "reason"), [case[1:] for case in FORGED], ids=[c[0] for c in FORGED])
def test_a_forged_response_is_refused(saml: Any, forge: Callable[[str], str], reason: str) -> None:
    before = user_emails()
    browser = Client()
    fields = saml.sign_in(authn_request_url(browser), "erin")

    response = post_to_acs(browser, encoded(fields, forge(decoded(fields))))

    assert refusal(response) is not None
    refused_with(browser, response, reason)
    assert user_emails() == before


def test_a_comment_inside_the_name_id_cannot_shorten_it_to_another_account(saml: Any, alice: Any) -> None:
    """The "user@example.com<!---->.evil.example" class: the whole address is read."""
    browser = Client()
    fields = saml.sign_in(authn_request_url(browser), "lookalike")

    response = post_to_acs(browser, encoded(fields, hostile_xml.comment_in_name_id(decoded(fields))))

    assert response.status_code == 302 and refusal(response) is None
    assert whoami(browser) == "alice@example.com.evil.example"


def test_a_request_is_answered_once_even_with_an_old_copy_of_the_session(saml: Any) -> None:
    """Two responses to one AuthnRequest (signed in twice at the IdP), the second posted with a
    copy of the session cookie from before the first: the request is spent on every replica."""
    browser = Client()
    url = authn_request_url(browser)
    first, second = saml.sign_in(url, "erin"), saml.sign_in(url, "erin")
    old_cookies = {name: morsel.value for name, morsel in browser.cookies.items()}
    assert post_to_acs(browser, first).status_code == 302 and whoami(browser) == "erin@example.com"

    replayer = Client()
    for name, value in old_cookies.items():
        replayer.cookies[name] = value
    refused_with(replayer, post_to_acs(replayer, second), "replayed")


def test_the_same_response_twice_in_one_browser_is_refused(saml: Any) -> None:
    browser = Client()
    fields = saml.sign_in(authn_request_url(browser), "erin")
    assert post_to_acs(browser, fields).status_code == 302

    assert refusal(post_to_acs(browser, fields)) == "state-mismatch"


def test_a_response_for_another_browsers_request_is_refused(saml: Any) -> None:
    victim, attacker = Client(), Client()
    authn_request_url(victim)
    fields = saml.sign_in(authn_request_url(attacker), "erin")  # answers the attacker's request

    refused_with(victim, post_to_acs(victim, fields), "state-mismatch")


def test_an_unsolicited_response_is_refused_unless_idp_initiated_sign_in_is_on(saml: Any) -> None:
    browser = Client()
    authn_request_url(browser)  # the browser has a session, with another request pending

    refused_with(browser, post_to_acs(browser, saml.idp_initiated("erin")), "unsolicited-response")


def test_an_assertion_is_spent_once_for_idp_initiated_sign_in(saml: Any, settings: Any) -> None:
    settings.SSO_SAML_ALLOW_IDP_INITIATED = True
    fields = saml.idp_initiated("erin", relay_state="/projects/7/")
    first, second = Client(), Client()
    authn_request_url(first)
    authn_request_url(second)

    landed = post_to_acs(first, fields)
    assert landed["Location"] == "/projects/7/" and whoami(first) == "erin@example.com"
    refused_with(second, post_to_acs(second, fields), "replayed")


@pytest.mark.parametrize(
    "relay_state", ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)"]
)
def test_an_idp_initiated_relay_state_never_leaves_the_site(
    saml: Any, settings: Any, relay_state: str
) -> None:
    settings.SSO_SAML_ALLOW_IDP_INITIATED = True
    browser = Client()
    authn_request_url(browser)

    landed = post_to_acs(browser, saml.idp_initiated("erin", relay_state=relay_state))

    assert landed["Location"] == "/" and whoami(browser) == "erin@example.com"


def test_a_response_larger_than_the_bound_is_refused_unread(saml: Any) -> None:
    browser = Client()
    authn_request_url(browser)
    huge = base64.b64encode(b"<" * (10 * 1024 * 1024)).decode()

    response = post_to_acs(browser, {"SAMLResponse": huge})

    refused_with(browser, response, "token-too-large")
    assert response["Connection"] == "close"


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({}, "missing-token"),
        ({"SAMLResponse": "not base64 !"}, "malformed-token"),
        ({"SAMLResponse": "PHg+"}, "malformed-token"),
    ],
    ids=["no response", "not base64", "not a response"],
)
def test_a_post_without_a_response_is_refused(saml: Any, fields: dict[str, str], reason: str) -> None:
    browser = Client()
    authn_request_url(browser)

    refused_with(browser, post_to_acs(browser, fields), reason)


def test_the_acs_takes_only_posts(saml: Any) -> None:
    assert Client().get("/sso/saml/acs/").status_code == 405


def test_a_browser_that_withheld_its_session_cookie_posts_again_from_this_site(saml: Any) -> None:
    browser = Client()
    fields = saml.sign_in(authn_request_url(browser), "erin")
    cookieless = Client()  # what a browser sends with a cross-site POST: no SameSite=Lax cookie

    page = post_to_acs(cookieless, fields)

    assert page.status_code == 200 and whoami(cookieless) is None
    assert "sessionid" not in page.cookies  # a new cookie would replace the one the re-post carries
    body = page.content.decode()
    assert 'action="/sso/saml/acs/"' in body and 'name="sso_saml_reposted" value="1"' in body
    assert post_to_acs(browser, {**fields, "sso_saml_reposted": "1"})["Location"] == "/projects/"
    assert whoami(browser) == "erin@example.com"


def test_an_unreachable_idp_is_a_clear_refusal(saml: Any, settings: Any) -> None:
    from label_studio_sso.saml.metadata import forget_metadata

    settings.SSO_SAML_IDP_METADATA_URL = "https://localhost:9/metadata"
    forget_metadata()
    browser = Client()

    refused_with(browser, browser.get("/sso/saml/login/"), "provider-unavailable")


@pytest.mark.parametrize("host", ["-x.example", "x-.example", "a..b", "1.2.3.4.5"])
def test_a_host_header_that_makes_our_urls_invalid_is_refused_not_a_500(saml: Any, host: str) -> None:
    """Without LABEL_STUDIO_HOST our URLs come from the Host header, which Django lets through
    in shapes python3-saml's URL check refuses."""
    browser = Client()

    metadata = browser.get("/sso/saml/metadata/", HTTP_HOST=host)
    assert metadata.status_code == 400 and b"LABEL_STUDIO_HOST" in metadata.content
    refused_with(browser, browser.get("/sso/saml/login/", HTTP_HOST=host), "bad-host")
    refused_with(
        browser, browser.post("/sso/saml/acs/", {"SAMLResponse": "PHg+"}, HTTP_HOST=host), "bad-host"
    )
