"""A whole SAML flow with every log captured: a sign-in, a replayed response, forged and
refused responses, a re-post and the logout log no assertion, NameID or attribute value."""

from __future__ import annotations

import logging
from typing import Any

from django.test import Client

from tests.saml import hostile_xml
from tests.saml.flows import authn_request_url, post_to_acs, refusal
from tests.support.leaks import assert_nothing_of, fragments
from tests.support.saml import decoded, encoded


def test_a_saml_sign_in_and_its_refusals_log_no_assertion(
    saml: Any, settings: Any, caplog: Any, capfd: Any
) -> None:
    caplog.set_level(logging.DEBUG)
    settings.SSO_SAML_SP_KEY = ""
    browser = Client()
    url = authn_request_url(browser)
    fields = saml.sign_in(url, "alice")
    response_xml = decoded(fields)
    assert refusal(post_to_acs(Client(), fields)) is None  # the re-post page for a cookieless browser
    assert refusal(post_to_acs(browser, fields)) is None
    assert refusal(post_to_acs(browser, fields)) == "state-mismatch"
    forged_browser = Client()
    forged = saml.sign_in(authn_request_url(forged_browser), "erin")
    assert refusal(post_to_acs(forged_browser, encoded(forged, hostile_xml.name_id_changed(decoded(forged)))))
    saml.next_response(audience="https://another-app.example/")
    refused_browser = Client()
    assert refusal(post_to_acs(refused_browser, saml.sign_in(authn_request_url(refused_browser), "erin")))
    browser.get("/logout")

    # This test's own browsing at the IdP (urllib3 logs its URLs); the server reads the IdP's
    # metadata with urllib, which logs nothing.
    captured = "\n".join(
        line
        for line in (caplog.text + "".join(capfd.readouterr())).splitlines()
        if "urllib3.connectionpool" not in line
    )
    secrets = {
        "response": fragments(fields["SAMLResponse"]),
        "response XML": fragments(response_xml, width=40),
        "NameID": {"alice@example.com", "erin@example.com"},
        "names": {"Alice", "Idp"},
        "groups": {"ls-admins", "annotators"},
        "AuthnRequest": fragments(url.split("SAMLRequest=", 1)[1].split("&", 1)[0]),
    }
    assert_nothing_of(secrets, captured)
    assert "sso login succeeded" in captured and "reason=state-mismatch" in captured
