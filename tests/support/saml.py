"""A real SAML 2.0 identity provider for the tests: samlify from npm, over HTTPS.

``docker/idp/saml-idp.mjs`` runs it with a realm written here: a test CA and a server
certificate, the IdP's signing key and certificate (and a stranger's, for a response signed
by someone else), the service provider it serves and the accounts. The tests sign in at it
as a browser would (``sign_in``) and, to play a hostile provider, ask it for a hostile next
response (``next_response``) or change the signed XML it produced (``tampered``).
"""

from __future__ import annotations

import base64
import html
import json
import re
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from tests.support.certificates import make_certificates, self_signed
from tests.support.oidc import ensure_node_modules, node_service, wait_until_serving
from tests.support.processes import free_port

PASSWORD = "Idp-password-1"
EMAIL_URI = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"
GROUPS_URI = "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups"

# Who can sign in at the IdP, and the attributes it releases (Entra ID's claim URIs for two).
ACCOUNTS: dict[str, dict[str, Any]] = {
    "erin": {
        "email": "erin@example.com",
        "attributes": {
            "email": "erin@example.com",
            "firstName": "Erin",
            "lastName": "Example",
            "groups": ["annotators"],
        },
    },
    "alice": {
        "email": "alice@example.com",
        "attributes": {
            EMAIL_URI: "alice@example.com",
            "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname": "Alice",
            "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname": "Idp",
            GROUPS_URI: ["annotators", "ls-admins"],
        },
    },
    "nameonly": {"email": "nameonly@example.com", "attributes": {}},
    "lookalike": {"email": "alice@example.com.evil.example", "attributes": {}},
}


@dataclass(frozen=True)
class KeyPair:
    """An RSA key and a self-signed certificate, as PEM files."""

    key_file: Path
    cert_file: Path

    @property
    def certificate_pem(self) -> str:
        return self.cert_file.read_text()


def make_key_pair(directory: Path, name: str) -> KeyPair:
    """A 2048-bit RSA key and a self-signed certificate for ``name``, valid for two days."""
    return KeyPair(*self_signed(directory, name))


@dataclass
class SamlIdp:
    """The running IdP: its URLs, the CA its TLS certificate comes from, and its controls."""

    base_url: str
    ca_file: Path
    signing: KeyPair
    log_file: Path
    process: subprocess.Popen[bytes] = field(repr=False)

    @property
    def entity_id(self) -> str:
        return self.base_url + "/metadata"

    @property
    def metadata_url(self) -> str:
        return self.base_url + "/metadata"

    def http(self) -> requests.Session:
        """A browser's session at the IdP, trusting its test CA."""
        session = requests.Session()
        session.verify = str(self.ca_file)
        session.trust_env = False
        return session

    def next_response(self, **overrides: Any) -> None:
        """Make the IdP's next response hostile (see saml-idp.mjs for the names)."""
        answer = self.http().post(
            self.base_url + "/__test/next-response", data=json.dumps(overrides), timeout=10
        )
        answer.raise_for_status()

    def sign_in(
        self, authn_request_url: str, login: str = "erin", password: str = PASSWORD
    ) -> dict[str, str]:
        """Follow the SP's redirect, sign in as ``login``; the fields the IdP posts to the ACS."""
        browser = self.http()
        page = browser.get(authn_request_url, timeout=10)
        page.raise_for_status()
        uid = _field(page.text, "uid")
        posted = browser.post(
            self.base_url + "/sso/login",
            data={"uid": uid, "username": login, "password": password},
            timeout=10,
        )
        posted.raise_for_status()
        fields = {"SAMLResponse": _field(posted.text, "SAMLResponse")}
        if 'name="RelayState"' in posted.text:
            fields["RelayState"] = _field(posted.text, "RelayState")
        return fields

    def idp_initiated(self, login: str = "erin", relay_state: str = "") -> dict[str, str]:
        """A sign-in started at the IdP (no AuthnRequest): the fields it posts to the ACS."""
        query = f"?RelayState={requests.utils.quote(relay_state)}" if relay_state else ""
        return self.sign_in(self.base_url + "/idp-initiated" + query, login)

    def log(self) -> str:
        return self.log_file.read_text(errors="replace")


def _field(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    if found is None:
        raise AssertionError(f"no {name} field in the IdP's page: {page[:300]}")
    return html.unescape(found.group(1))


def decoded(fields: dict[str, str]) -> str:
    """The response XML the IdP posted."""
    return base64.b64decode(fields["SAMLResponse"]).decode("utf-8")


def encoded(fields: dict[str, str], xml: str) -> dict[str, str]:
    """The same fields with ``xml`` as the response."""
    return {**fields, "SAMLResponse": base64.b64encode(xml.encode("utf-8")).decode("ascii")}


@contextmanager
def running_idp(
    directory: Path, *, sp_entity_id: str, acs_url: str, sign: str = "assertion", tls: bool = True
) -> Iterator[SamlIdp]:
    """Start the IdP on a free port for the SP at ``acs_url``; stop it on exit.

    Without ``tls`` it serves plain HTTP on localhost: Chromium interrupts a form that an
    HTTPS page posts to an HTTP site (the Label Studio of the browser tests) with a warning."""
    ensure_node_modules()
    directory.mkdir(parents=True, exist_ok=True)
    certificates = make_certificates(directory, ("localhost", "127.0.0.1"))
    signing, stranger = make_key_pair(directory, "idp-signing"), make_key_pair(directory, "stranger")
    port = free_port()
    base_url = f"{'https' if tls else 'http'}://localhost:{port}"
    realm = {
        "name": "Example Corp SAML identity provider (test realm)",
        "entity_id": base_url + "/metadata",
        "base_url": base_url,
        "port": port,
        "host": "127.0.0.1",
        "tls": {"cert": str(certificates.cert_file), "key": str(certificates.key_file)} if tls else None,
        "signing": {"key": str(signing.key_file), "cert": str(signing.cert_file)},
        "stranger": {"key": str(stranger.key_file), "cert": str(stranger.cert_file)},
        "sign": sign,
        "test_controls": True,
        "sp": {"entity_id": sp_entity_id, "acs_url": acs_url},
        "accounts": {
            login: {"password": PASSWORD, "email": account["email"], "attributes": account["attributes"]}
            for login, account in ACCOUNTS.items()
        },
    }
    realm_file = directory / "saml-realm.json"
    realm_file.write_text(json.dumps(realm))
    output = directory / "saml-idp.log"
    with node_service("saml-idp.mjs", realm_file, output) as process:
        idp = SamlIdp(base_url, certificates.ca_file, signing, output, process)
        wait_until_serving(
            process,
            output,
            lambda: idp.http().get(idp.metadata_url, timeout=2).raise_for_status(),
            "the SAML IdP",
        )
        yield idp
