"""One SAML sign-in as the tests drive it: Label Studio's side in a Django test client, the
IdP's sign-in page over HTTPS as a browser would."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from django.test import Client


def authn_request_url(browser: Client, next_path: str = "/projects/") -> str:
    """Press the button: the IdP URL Label Studio redirects to, with its AuthnRequest."""
    response = browser.get("/sso/saml/login/", {"next": next_path})
    assert response.status_code == 302, response.content[:300]
    return response["Location"]


def post_to_acs(browser: Client, fields: dict[str, str]) -> Any:
    """What the IdP's page does: post its fields to the ACS."""
    return browser.post("/sso/saml/acs/", fields)


def sign_in(browser: Client, idp: Any, login: str = "erin", next_path: str = "/projects/") -> Any:
    """A whole SP-initiated sign-in; the ACS's answer."""
    return post_to_acs(browser, idp.sign_in(authn_request_url(browser, next_path), login))


def refusal(response: Any) -> str | None:
    """The ``sso_error`` of a redirect to the login page, else None."""
    location = response.get("Location", "")
    if not location.startswith("/user/login/"):
        return None
    return parse_qs(urlsplit(location).query).get("sso_error", [None])[0]
