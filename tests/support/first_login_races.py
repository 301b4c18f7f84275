"""What the first-login tests share, over HTTP against a running server (gunicorn or the image):
twelve attempts released at once, the one address spelled as different browsers and providers
send it, and each way in that creates users asked as a client would, answering whom it logged
in (an email) or its refusal."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import requests
from requests.adapters import HTTPAdapter

from tests.support.oidc import CLIENT_ID, SigningKey, authorization_parameters

RACE = 12
GATEWAY_ADDRESS = "127.0.0.2"  # the trusted gateway: any other loopback address is a browser
PORTAL_ISSUER, PORTAL_AUDIENCE = "https://portal.example.com", "label-studio"
Outcome = TypeVar("Outcome")


def raced(attempt: Callable[[int], Outcome], count: int = RACE) -> list[Outcome]:
    """``attempt(index)`` run ``count`` times at once, all released together."""
    start = threading.Barrier(count)

    def run(index: int) -> Outcome:
        start.wait()
        return attempt(index)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def spelled(email: str, index: int) -> str:
    """The same address in mixed case, as different browsers and providers may send it."""
    local, _at, domain = email.partition("@")
    return [email, local.capitalize() + "@" + domain, email.upper()][index % 3]


class FromAddress(HTTPAdapter):
    """Connections that leave from ``address`` (a gateway's, say: any other loopback address
    is a browser's), as a reverse proxy's would."""

    def __init__(self, address: str, **kwargs: Any) -> None:
        self.address = address
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


def whoami(url: str, browser: requests.Session) -> str | None:
    """The email Label Studio's own API says ``browser``'s session belongs to, or None."""
    response = browser.get(f"{url}/api/current-user/whoami", timeout=60)
    return response.json()["email"] if response.status_code == 200 else None


def portal_token(portal_key: SigningKey, email: str) -> str:
    now = int(time.time())
    claims = {"iss": PORTAL_ISSUER, "aud": PORTAL_AUDIENCE, "email": email, "jti": uuid.uuid4().hex}
    return portal_key.sign({**claims, "iat": now, "exp": now + 300})


def from_the_gateway() -> requests.Session:
    browser = requests.Session()
    browser.mount("http://", FromAddress(GATEWAY_ADDRESS))
    return browser


def by_gateway(url: str, sent: str) -> str:
    """Whom the gateway's request naming ``sent`` (sent as UTF-8) is, or the refusal."""
    value = sent.strip(" \t").encode()  # HTTP strips the spaces around a header's value anyway
    response = from_the_gateway().get(
        f"{url}/api/current-user/whoami", headers={"X-Forwarded-Email": value}, timeout=60
    )
    if response.status_code != 200:
        return response.headers.get("X-Label-Studio-SSO", str(response.status_code))
    return str(response.json()["email"])


def by_portal_token(url: str, token: str) -> str:
    """Whom the portal-signed ``token`` logged in, or the refusal."""
    browser = requests.Session()
    response = browser.get(f"{url}/api/sso/login", params={"token": token}, allow_redirects=False, timeout=60)
    if response.headers.get("X-Label-Studio-SSO") != "logged-in":
        return response.headers.get("X-Label-Studio-SSO", str(response.status_code))
    return str(whoami(url, browser))


def oidc_callback(url: str, provider: Any, email: str | None = None) -> tuple[requests.Session, str]:
    """A browser that signed in at the provider, and the callback URL it was sent back to;
    ``email``: the provider's ID token names this address instead of the account's own."""
    browser = requests.Session()
    start = browser.get(f"{url}/sso/oidc/login/", allow_redirects=False, timeout=60)
    assert start.status_code == 302, start.text[:300]
    assert authorization_parameters(start.headers["Location"])["client_id"] == CLIENT_ID
    if email is not None:
        nonce = authorization_parameters(start.headers["Location"])["nonce"]
        provider.next_id_token(provider.key.sign(provider.id_token_claims(nonce, email=email)))
    return browser, provider.sign_in(start.headers["Location"], "erin")


def by_oidc_callback(url: str, browser: requests.Session, callback: str) -> str:
    """Whom the provider's callback logged ``browser`` in as, or the refusal."""
    response = browser.get(callback, allow_redirects=False, timeout=60)
    location = response.headers.get("Location", "")
    if response.status_code != 302 or "/user/login/" in location:
        return authorization_parameters(location).get("sso_error", str(response.status_code))
    return str(whoami(url, browser))
