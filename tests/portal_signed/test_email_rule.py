"""The one email rule through portal-signed tokens (signed by Node's ``jose``): no look-alike
logs in as another account or creates one.
"""

from __future__ import annotations

from typing import Any

from django.test import Client

from tests.support.email_rule import EXPECTED, through_every_case
from tests.support.label_studio import whoami


def test_portal_signed_tokens_log_in_or_create_no_look_alike(look_alike_targets: Any, portal: Any) -> None:
    def portal_signed(sent: str) -> str:
        browser = Client()
        response = browser.get("/api/sso/login", {"token": portal.sign(portal.portal_claims(sent))})
        if response["X-Label-Studio-SSO"] != "logged-in":
            return str(response["X-Label-Studio-SSO"])
        return str(whoami(browser))

    assert through_every_case(portal_signed) == EXPECTED
