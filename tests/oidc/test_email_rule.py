"""The one email rule through OpenID Connect: an ID token signed by the real provider's key
carries each look-alike; none signs in as another account or creates one.
"""

from __future__ import annotations

from typing import Any

from django.test import Client

from tests.support.email_rule import EXPECTED, through_every_case
from tests.support.label_studio import whoami
from tests.support.oidc import authorization_parameters, sign_in


def test_openid_connect_logs_in_or_creates_no_look_alike(look_alike_targets: Any, oidc: Any) -> None:
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
