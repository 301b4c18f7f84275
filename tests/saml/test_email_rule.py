"""The one email rule through SAML: a response signed by the real IdP carries each look-alike,
as the NameID (emailAddress format) and as the email attribute; none signs in as another
account or creates one.
"""

from __future__ import annotations

from typing import Any

from django.test import Client

from tests.saml.flows import refusal, sign_in
from tests.support.email_rule import EXPECTED, through_every_case
from tests.support.label_studio import whoami


def _landed(browser: Client, response: Any) -> str:
    reason = refusal(response)
    return reason if reason is not None else str(whoami(browser))


def test_a_look_alike_name_id_logs_in_or_creates_no_one(look_alike_targets: Any, saml: Any) -> None:
    def name_id(sent: str) -> str:
        browser = Client()
        saml.next_response(name_id=sent)
        return _landed(browser, sign_in(browser, saml, "nameonly"))

    assert through_every_case(name_id) == EXPECTED


def test_a_look_alike_email_attribute_logs_in_or_creates_no_one(look_alike_targets: Any, saml: Any) -> None:
    def attribute(sent: str) -> str:
        browser = Client()
        saml.next_response(attributes={"email": sent})
        return _landed(browser, sign_in(browser, saml, "erin"))

    assert through_every_case(attribute) == EXPECTED
