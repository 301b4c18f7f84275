"""A real OpenID provider for the tests: the certified ``oidc-provider`` from npm, over HTTPS.

``docker/idp/provider.mjs`` runs it with a realm written here: a test CA and a
server certificate for the names the tests use, one RSA signing key, the accounts of the
demo realm and the clients. The tests talk to it as a browser would (``sign_in``) and, to
play a hostile provider, hand it an ID token or a JWKS of their own making.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import jwt
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from tests.support.certificates import make_certificates
from tests.support.processes import free_port, stop_process_group
from tests.support.repository import REPO

PROVIDER_DIR = REPO / "docker" / "idp"
CLIENT_ID = "label-studio"
CLIENT_SECRET = "label-studio-client-secret-for-tests-0123456789"
OTHER_CLIENT_ID = "another-app"
OTHER_CLIENT_SECRET = "another-app-client-secret-for-tests-0123456789"
PASSWORD = "Provider-password-1"

# The demo realm: who can sign in at the provider, and the claims it releases about them.
ACCOUNTS: dict[str, dict[str, Any]] = {
    "erin": {
        "email": "erin@example.com",
        "email_verified": True,
        "given_name": "Erin",
        "family_name": "Example",
        "name": "Erin Example",
        "groups": ["annotators"],
    },
    "alice": {
        "email": "alice@example.com",
        "email_verified": True,
        "given_name": "Alice",
        "family_name": "Provider",
        "groups": ["annotators", "ls-admins"],
    },
    "ursula": {"email": "ursula@example.com", "email_verified": False, "groups": ["annotators"]},
    "nomail": {"given_name": "No", "family_name": "Mail"},
}


def ensure_node_modules() -> None:
    """``npm ci`` once per lockfile: oidc-provider and jose, pinned in package-lock.json."""
    lock = PROVIDER_DIR / "package-lock.json"
    stamp = PROVIDER_DIR / "node_modules" / ".installed-lock"
    if stamp.exists() and stamp.read_bytes() == lock.read_bytes():
        return
    subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=PROVIDER_DIR,
        check=True,
        capture_output=True,
        timeout=300,
    )
    stamp.write_bytes(lock.read_bytes())


@dataclass
class SigningKey:
    """An RSA key with its key id: the provider's, or a stranger's."""

    kid: str
    private: rsa.RSAPrivateKey = field(repr=False)

    @classmethod
    def generate(cls, kid: str | None = None) -> SigningKey:
        return cls(
            kid or uuid.uuid4().hex[:16], rsa.generate_private_key(public_exponent=65537, key_size=2048)
        )

    def private_jwk(self) -> dict[str, Any]:
        return {**self._jwk(self.private), "kid": self.kid, "use": "sig", "alg": "RS256"}

    def public_jwk(self) -> dict[str, Any]:
        return {**self._jwk(self.private.public_key()), "kid": self.kid, "use": "sig", "alg": "RS256"}

    @staticmethod
    def _jwk(key: Any) -> dict[str, Any]:
        jwk = RSAAlgorithm.to_jwk(key, as_dict=True)
        jwk.pop("key_ops", None)  # PyJWT writes ["sign"], which the provider would publish as it is
        return jwk

    def public_pem(self) -> bytes:
        return self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def sign(self, claims: dict[str, Any], **headers: Any) -> str:
        return jwt.encode(claims, self.private, algorithm="RS256", headers={"kid": self.kid, **headers})


@dataclass
class Provider:
    """A running provider: its issuer URL, CA, signing key and clients."""

    issuer: str
    ca_file: Path
    key: SigningKey
    process: subprocess.Popen[bytes] = field(repr=False)
    output: Path = field(repr=False)

    def http(self) -> requests.Session:
        """A browser-like session at the provider (cookies kept, redirects not followed)."""
        session = requests.Session()
        session.verify = str(self.ca_file)
        session.trust_env = False  # else a REQUESTS_CA_BUNDLE in the environment overrides verify
        return session

    def discovery(self) -> dict[str, Any]:
        response = requests.get(
            f"{self.issuer}/.well-known/openid-configuration", verify=self.ca_file, timeout=10
        )
        response.raise_for_status()
        return response.json()

    def sign_in(
        self,
        authorization_url: str,
        login: str,
        password: str = PASSWORD,
        browser: requests.Session | None = None,
    ) -> str:
        """Sign in at this provider as a browser would; the URL it sends the browser back to."""
        return sign_in_at_provider(self.issuer, authorization_url, login, password, browser or self.http())

    def control(self, path: str, body: dict[str, Any]) -> None:
        response = requests.post(f"{self.issuer}/__test/{path}", json=body, verify=self.ca_file, timeout=10)
        response.raise_for_status()

    def next_id_token(self, id_token: str) -> None:
        """The next token response carries this ID token instead of the provider's own."""
        self.control("next-token", {"id_token": id_token})

    def serve_jwks(self, jwks: dict[str, Any] | None) -> None:
        """The JWKS endpoint serves ``jwks`` (None: the provider's own keys again)."""
        self.control("jwks", {"jwks": jwks})

    def advertise(self, **fields: Any) -> None:
        """The discovery document carries these fields too (or instead of its own)."""
        self.control("discovery", {"discovery": fields})

    def reset(self) -> None:
        self.control("reset", {})

    def id_token_claims(self, nonce: str, login: str = "erin", **changes: Any) -> dict[str, Any]:
        """Claims of an ID token the provider could have issued to our client (for forging)."""
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": CLIENT_ID,
            "sub": login,
            "nonce": nonce,
            "iat": now,
            "exp": now + 300,
            **ACCOUNTS[login],
        }
        claims.update(changes)
        return {name: value for name, value in claims.items() if value is not None}

    def logout_token(
        self, *, sub: str | None = "erin", sid: str | None = None, **changes: Any
    ) -> dict[str, Any]:
        """Claims of a back-channel logout token for our client (for signing in tests)."""
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 120,
            "jti": uuid.uuid4().hex,
            "events": {"http://schemas.openid.net/event/backchannel-logout": {}},
            "sub": sub,
            "sid": sid,
        }
        claims.update(changes)
        return {name: value for name, value in claims.items() if value is not None}

    def log(self) -> str:
        return self.output.read_text(errors="replace")


def sign_in_at_provider(
    issuer: str, authorization_url: str, login: str, password: str, browser: requests.Session
) -> str:
    """Follow an authorization request at the provider ``issuer`` as a browser would, sign in
    on its page, and return the URL it sends the browser back to (the relying party's callback)."""
    url = authorization_url
    for _ in range(10):
        response = browser.get(url, allow_redirects=False, timeout=10)
        if response.status_code in (302, 303) and "/interaction/" in response.headers["Location"]:
            url = urljoin(url, response.headers["Location"])
            continue
        if response.status_code == 200 and 'name="login"' in response.text:
            action = response.text.split('action="', 1)[1].split('"', 1)[0]
            response = browser.post(
                urljoin(url, action),
                data={"login": login, "password": password},
                allow_redirects=False,
                timeout=10,
            )
            if response.status_code != 303:
                raise AssertionError(f"sign-in at the provider failed: {response.status_code}")
            url = urljoin(url, response.headers["Location"])
            continue
        if response.status_code in (302, 303):
            location = urljoin(url, response.headers["Location"])
            if not location.startswith(issuer):
                return location
            url = location
            continue
        raise AssertionError(
            f"unexpected answer from the provider: {response.status_code} {response.text[:300]}"
        )
    raise AssertionError("the provider kept redirecting")


def authorization_parameters(url: str) -> dict[str, str]:
    """The query of an authorization request, one value per name."""
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


@contextmanager
def running_provider(
    directory: Path,
    *,
    redirect_uris: list[str],
    backchannel_logout_uri: str | None = None,
    post_logout_redirect_uris: list[str] | None = None,
    host_names: tuple[str, ...] = ("localhost", "127.0.0.1"),
    issuer_host: str = "localhost",
) -> Iterator[Provider]:
    """Start the provider on a free port; stop it on exit."""
    ensure_node_modules()
    directory.mkdir(parents=True, exist_ok=True)
    certificates = make_certificates(directory, host_names)
    key = SigningKey.generate()
    port = free_port()
    issuer = f"https://{issuer_host}:{port}"
    ours = {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "redirect_uris": redirect_uris,
        "post_logout_redirect_uris": post_logout_redirect_uris or [],
        "grant_types": ["authorization_code"],
        "response_types": ["code"],
    }
    if backchannel_logout_uri:
        ours.update(backchannel_logout_uri=backchannel_logout_uri, backchannel_logout_session_required=True)
    realm = {
        "name": "Example Corp identity provider (test realm)",
        "issuer": issuer,
        "port": port,
        "host": "127.0.0.1",
        "tls": {"cert": str(certificates.cert_file), "key": str(certificates.key_file)},
        "jwks": {"keys": [key.private_jwk()]},
        "cookie_keys": [uuid.uuid4().hex, uuid.uuid4().hex],
        "test_controls": True,
        "allow_private_network": True,  # back-channel logouts go to Label Studio on this machine
        "clients": [
            ours,
            {
                "client_id": OTHER_CLIENT_ID,
                "client_secret": OTHER_CLIENT_SECRET,
                "redirect_uris": redirect_uris,
                "grant_types": ["authorization_code"],
                "response_types": ["code"],
            },
        ],
        "accounts": {login: {"password": PASSWORD, "claims": claims} for login, claims in ACCOUNTS.items()},
    }
    realm_file = directory / "realm.json"
    realm_file.write_text(json.dumps(realm))
    output = directory / "provider.log"
    with node_service("provider.mjs", realm_file, output) as process:
        provider = Provider(issuer, certificates.ca_file, key, process, output)
        wait_until_serving(process, output, provider.discovery, "the OpenID provider")
        yield provider


@contextmanager
def node_service(script: str, config_file: Path, output: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``node docker/idp/<script> <config_file>``, its output in ``output``; stopped on exit."""
    with output.open("wb") as sink:
        process = subprocess.Popen(
            ["node", str(PROVIDER_DIR / script), str(config_file)],
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "NODE_ENV": "production"},
        )
    try:
        yield process
    finally:
        stop_process_group(process, grace=5)


def wait_until_serving(
    process: subprocess.Popen[bytes], output: Path, ready: Any, what: str, timeout: float = 30
) -> None:
    """Poll ``ready()`` until it stops raising a requests error; fail with the output if the
    process exits or the time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited: {output.read_text(errors='replace')}")
        try:
            ready()
            return
        except requests.RequestException:
            time.sleep(0.1)
    raise RuntimeError(f"{what} did not start: {output.read_text(errors='replace')}")


@dataclass
class SignIn:
    """One sign-in through Label Studio's button: the authorization request and the callback."""

    authorization_url: str
    callback_url: str
    response: Any  # Label Studio's answer to the callback

    @property
    def nonce(self) -> str:
        return authorization_parameters(self.authorization_url)["nonce"]


def begin_sign_in(browser: Any, next_path: str = "/projects/") -> str:
    """Press the button (GET /sso/oidc/login/): the provider's authorization URL."""
    response = browser.get("/sso/oidc/login/", {"next": next_path})
    assert response.status_code == 302, (response.status_code, response.headers.get("Location"))
    return response["Location"]


def callback_path(callback_url: str) -> str:
    parts = urlsplit(callback_url)
    return f"{parts.path}?{parts.query}"


def sign_in(
    browser: Any,
    provider: Provider,
    login: str = "erin",
    *,
    next_path: str = "/projects/",
    id_token: Any = None,
) -> SignIn:
    """The whole round trip with a Django test client as the browser; ``id_token`` (a function
    of the nonce) makes the provider answer with that ID token instead of its own."""
    authorization_url = begin_sign_in(browser, next_path)
    if id_token is not None:
        provider.next_id_token(id_token(authorization_parameters(authorization_url)["nonce"]))
    callback_url = provider.sign_in(authorization_url, login)
    return SignIn(authorization_url, callback_url, browser.get(callback_path(callback_url)))
