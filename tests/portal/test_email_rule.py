"""The one email rule through the token API (``"create": true``): no look-alike finds or
creates an account, and what is stored is the rule's stored form, byte for byte.
"""

from __future__ import annotations

from typing import Any

from label_studio_sso.login_tokens import verify_login_token
from tests.support.email_rule import EXPECTED, REFUSED, through_every_case


def test_the_token_api_finds_or_creates_no_look_alike(
    api: Any, owner_token: str, look_alike_targets: Any
) -> None:
    def token_api(sent: str) -> str:
        response = api({"email": sent, "create": True}, auth=f"Token {owner_token}")
        if response.status_code != 200:
            assert response.json()["error_code"] == "INVALID_EMAIL", (sent, response.content)
            return REFUSED
        return str(verify_login_token(response.json()["token"]).email)

    assert through_every_case(token_api) == EXPECTED


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
