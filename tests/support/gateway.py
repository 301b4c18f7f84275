"""An independent signer for the tests: ``docker/idp/gateway.mjs`` (Node's ``jose`` from npm).

It plays the gateway's identity check behind nginx's ``auth_request`` and signs, with keys
of its own making (RS256, ES256, EdDSA), the gateway assertions and portal login tokens the
tests hand to Label Studio; it serves the public keys over HTTPS as a JWKS, rotates them,
and makes that endpoint go down, slow, huge or garbage on request.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from tests.support.certificates import make_certificates
from tests.support.oidc import ensure_node_modules, node_service, wait_until_serving
from tests.support.processes import free_port

ASSERTION_ISSUER = "https://gateway.example.test"
ASSERTION_AUDIENCE = "label-studio-behind-the-gateway"
PORTAL_ISSUER = "https://portal.example.test"
PORTAL_AUDIENCE = "label-studio"
# The gateway's network as Label Studio trusts it in-process, and the peer address of the
# gateway's own requests (the Django test client's REMOTE_ADDR).
GATEWAY_NETWORK = "10.0.0.0/24"
GATEWAY = "10.0.0.5"

# Who can "sign in" at the gateway, and what it asserts about them.
ACCOUNTS: dict[str, dict[str, Any]] = {
    "alice": {"email": "alice@example.com", "name": "Alice Gateway", "groups": ["annotators"]},
    "bob": {"email": "bob@example.com", "name": "Bob Gateway", "groups": ["annotators", "ls-admins"]},
    "dana": {"email": "dana@example.com", "name": "Dana Newcomer", "groups": ["annotators"]},
    "carol": {"email": "carol@example.com", "name": "Carol Former", "groups": ["annotators"]},
}


@dataclass
class Gateway:
    """A running gateway.mjs: its plain HTTP URL, its JWKS URL and CA, and its test controls."""

    url: str
    jwks_url: str
    ca_file: Path
    process: subprocess.Popen[bytes] = field(repr=False)
    output: Path = field(repr=False)

    def control(self, name: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        if body is None:
            response = requests.get(f"{self.url}/__test/{name}", timeout=10)
        else:
            response = requests.post(f"{self.url}/__test/{name}", json=body, timeout=10)
        response.raise_for_status()
        return response.json()

    def sign(self, claims: dict[str, Any], alg: str = "ES256", kid: str | None = None) -> str:
        """A JWT jose signs with the current key for ``alg`` (``kid`` names another key id; "" none)."""
        body: dict[str, Any] = {"claims": claims, "alg": alg}
        if kid is not None:
            body["kid"] = kid
        return str(self.control("sign", body)["token"])

    def thumbprint(self, alg: str = "ES256") -> str:
        """jose's RFC 7638 thumbprint of the current key for ``alg``."""
        return str(self.control("thumbprint", {"alg": alg})["thumbprint"])

    def rotate(self, alg: str = "ES256", *, keep_old: bool = False) -> str:
        """A new key for ``alg``; the old one stays published only with ``keep_old``."""
        return str(self.control("rotate", {"alg": alg, "keep_old": keep_old})["kid"])

    def jwks_mode(self, mode: str) -> None:
        """ok, down (503), slow (answers after the fetch timeout), huge (2 MiB) or garbage."""
        self.control("jwks-mode", {"mode": mode})

    def fetches(self) -> int:
        """How many times the JWKS endpoint was asked since the last reset."""
        return int(self.control("fetches")["fetches"])

    def reset(self) -> None:
        self.control("reset", {})

    def assertion_claims(self, email: str = "alice@example.com", **changes: Any) -> dict[str, Any]:
        base = {"iss": ASSERTION_ISSUER, "aud": ASSERTION_AUDIENCE, "sub": email, "email": email}
        return _claims(base, 600, changes)

    def portal_claims(self, email: str = "alice@example.com", **changes: Any) -> dict[str, Any]:
        base = {"iss": PORTAL_ISSUER, "aud": PORTAL_AUDIENCE, "email": email, "jti": os.urandom(16).hex()}
        return _claims(base, 300, changes)

    def log(self) -> str:
        return self.output.read_text(errors="replace")


def _claims(base: dict[str, Any], lifetime: int, changes: dict[str, Any]) -> dict[str, Any]:
    """``base`` issued now for ``lifetime`` seconds, with ``changes`` (None removes a claim)."""
    now = int(time.time())
    claims = {**base, "iat": now, "exp": now + lifetime, **changes}
    return {name: value for name, value in claims.items() if value is not None}


@contextmanager
def running_gateway(
    directory: Path, *, host: str = "127.0.0.1", slow_ms: int = 30000, assertion_alg: str = "ES256"
) -> Iterator[Gateway]:
    """Start gateway.mjs on free ports, its JWKS over HTTPS with a CA made here; stop it on exit."""
    ensure_node_modules()
    directory.mkdir(parents=True, exist_ok=True)
    certificates = make_certificates(directory, ("localhost", "127.0.0.1"))
    port, jwks_port = free_port(), free_port()
    config = {
        "host": host,
        "port": port,
        "jwks_port": jwks_port,
        "tls": {"cert": str(certificates.cert_file), "key": str(certificates.key_file)},
        "test_controls": True,
        "slow_ms": slow_ms,
        "assertion_alg": assertion_alg,
        "assertion_issuer": ASSERTION_ISSUER,
        "assertion_audience": ASSERTION_AUDIENCE,
        "accounts": ACCOUNTS,
    }
    config_file = directory / "gateway.json"
    config_file.write_text(json.dumps(config))
    output = directory / "gateway.log"
    with node_service("gateway.mjs", config_file, output) as process:
        gateway = Gateway(
            f"http://127.0.0.1:{port}",
            f"https://localhost:{jwks_port}/jwks",
            certificates.ca_file,
            process,
            output,
        )

        def ready() -> None:
            requests.get(gateway.jwks_url, verify=gateway.ca_file, timeout=5).raise_for_status()
            gateway.reset()

        wait_until_serving(process, output, ready, "the gateway")
        yield gateway
