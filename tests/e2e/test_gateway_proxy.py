"""The image behind a real authenticating reverse proxy (nginx ``auth_request``), both ways a
gateway speaks: plain identity headers, and a signed assertion (Node's ``jose``) whose keys the
container fetches over HTTPS. Portal-signed tokens reach the same container directly."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.e2e.support.containers import LabelStudio, assert_no_token_in
from tests.e2e.support.gateway_proxy import GATEWAY_ADDRESS, GatewayProxy, gateway_in_front, signed_in
from tests.support.gateway import (
    ASSERTION_AUDIENCE,
    ASSERTION_ISSUER,
    PORTAL_AUDIENCE,
    PORTAL_ISSUER,
    Gateway,
    running_gateway,
)

pytestmark = pytest.mark.e2e

WHOAMI = "/api/current-user/whoami"
MODES = {
    "headers": {
        "SSO_PROXY_EMAIL_HEADER": "X-Forwarded-Email",
        "SSO_PROXY_NAME_HEADER": "X-Forwarded-Name",
        "SSO_PROXY_GROUPS_HEADER": "X-Forwarded-Groups",
    },
    "assertion": {
        "SSO_PROXY_JWT_HEADER": "X-Gateway-Assertion",
        "SSO_PROXY_JWT_AUDIENCE": ASSERTION_AUDIENCE,
        "SSO_PROXY_JWT_ISSUER": ASSERTION_ISSUER,
    },
}


@pytest.fixture(scope="module", params=sorted(MODES))
def behind_the_gateway(
    request: Any, start_label_studio: Any, tmp_path_factory: Any
) -> Iterator[tuple[LabelStudio, GatewayProxy, Gateway]]:
    directory: Path = tmp_path_factory.mktemp(f"gateway-{request.param}")
    with running_gateway(directory / "gateway") as gateway:
        env = {
            "LSSO_DEMO_DATA": "true",  # alice, bob, carol (deactivated)
            "SSO_CREATE_USERS": "true",
            "SSO_STAFF_GROUPS": "ls-admins",
            "SSO_TRUSTED_PROXIES": f"{GATEWAY_ADDRESS}/32",
            "SSO_PROXY_JWKS_URL": gateway.jwks_url,
            "SSO_ISSUER_JWKS_URL": gateway.jwks_url,
            "SSO_ISSUER": PORTAL_ISSUER,
            "SSO_ISSUER_AUDIENCE": PORTAL_AUDIENCE,
            "REQUESTS_CA_BUNDLE": "/gateway/ca.pem",
            **MODES[request.param],
        }
        server = start_label_studio(env, volumes={str(directory / "gateway"): "/gateway"})
        with gateway_in_front(directory / "nginx", gateway=gateway.url, upstream_port=server.port) as proxy:
            yield server, proxy, gateway


def email_at(url: str, browser: requests.Session, **headers: str) -> str | None:
    response = browser.get(f"{url}{WHOAMI}", headers=headers, timeout=60)
    return response.json()["email"] if response.status_code == 200 else None


def test_nobody_gets_past_the_gateway_without_signing_in_there(behind_the_gateway: Any) -> None:
    _server, proxy, _gateway = behind_the_gateway
    assert requests.get(f"{proxy.url}/projects/", timeout=60).status_code == 401


def test_a_user_signs_in_at_the_gateway_and_later_requests_are_an_ordinary_session(
    behind_the_gateway: Any,
) -> None:
    server, proxy, _gateway = behind_the_gateway
    before = server.logs().count("via=gateway created=")
    browser = signed_in(proxy, "alice")

    answers = [email_at(proxy.url, browser) for _ in range(5)]

    assert answers == ["alice@example.com"] * 5
    assert server.logs().count("via=gateway created=") == before + 1  # one login, then the session
    assert browser.get(f"{proxy.url}/projects/", timeout=60).status_code == 200


def test_the_gateway_switching_users_switches_label_studio_too(behind_the_gateway: Any) -> None:
    _server, proxy, _gateway = behind_the_gateway
    browser = signed_in(proxy, "alice")
    session = browser.cookies.get("sessionid")

    browser.get(f"{proxy.url}/gateway/sign-in", params={"user": "bob"}, allow_redirects=False, timeout=60)

    assert email_at(proxy.url, browser) == "bob@example.com"
    assert browser.cookies.get("sessionid") != session


def test_a_new_user_of_the_gateway_is_created_with_its_names_and_groups(behind_the_gateway: Any) -> None:
    server, proxy, _gateway = behind_the_gateway
    assert email_at(proxy.url, signed_in(proxy, "dana")) == "dana@example.com"
    assert "sso user created" in server.logs()


def test_what_the_client_sends_under_the_gateways_names_is_overwritten(behind_the_gateway: Any) -> None:
    _server, proxy, gateway = behind_the_gateway
    browser = signed_in(proxy, "alice")
    forged = {
        "X-Forwarded-Email": "bob@example.com",
        "X-Gateway-Assertion": gateway.sign(gateway.assertion_claims("bob@example.com")),
    }
    assert email_at(proxy.url, browser, **forged) == "alice@example.com"


def test_a_request_that_bypasses_the_gateway_with_forged_identity_gets_nothing(
    behind_the_gateway: Any,
) -> None:
    server, _proxy, gateway = behind_the_gateway
    assertion = gateway.sign(gateway.assertion_claims("bob@example.com"))
    forged = {
        "X-Forwarded-Email": "bob@example.com",
        "X-Gateway-Assertion": assertion,
        "X-Forwarded-For": GATEWAY_ADDRESS,
        "X-Real-IP": GATEWAY_ADDRESS,
        "Forwarded": f"for={GATEWAY_ADDRESS}",
    }
    direct = requests.Session()
    direct.trust_env = False

    assert email_at(server.url, direct, **forged) is None
    assert (
        direct.get(f"{server.url}/projects/", headers=forged, allow_redirects=False, timeout=60).status_code
        == 302
    )
    assert "sso gateway headers ignored: peer=127.0.0.1" in server.logs()
    assert_no_token_in(server.logs(), [assertion])


def test_a_user_deactivated_in_label_studio_is_refused_with_a_reason(behind_the_gateway: Any) -> None:
    _server, proxy, _gateway = behind_the_gateway
    browser = requests.Session()
    browser.trust_env = False
    browser.get(f"{proxy.url}/gateway/sign-in", params={"user": "carol"}, allow_redirects=False, timeout=60)

    response = browser.get(f"{proxy.url}{WHOAMI}", timeout=60)

    assert (response.status_code, response.json()["error_code"]) == (403, "GATEWAY_USER_REFUSED")
    assert response.headers["X-Label-Studio-SSO"] == "user-inactive"


def test_a_token_the_portal_signed_logs_in_without_the_gateway(behind_the_gateway: Any) -> None:
    server, _proxy, gateway = behind_the_gateway
    token = gateway.sign(gateway.portal_claims("alice@example.com"), "EdDSA")
    browser = requests.Session()
    browser.trust_env = False

    landing = browser.get(f"{server.url}/api/sso/login", params={"token": token, "next": WHOAMI}, timeout=60)
    replay = requests.get(
        f"{server.url}/api/sso/login", params={"token": token}, allow_redirects=False, timeout=60
    )

    assert landing.json()["email"] == "alice@example.com"
    assert replay.headers["X-Label-Studio-SSO"] == "replayed"
    assert_no_token_in(server.logs(), [token])


def test_identity_headers_spelled_with_underscores_never_arrive_even_from_the_gateways_address(
    behind_the_gateway: Any,
) -> None:
    """WSGI turns both ``X-Forwarded-Email`` and ``X_Forwarded_Email`` into one variable; gunicorn
    drops the second spelling, so a client whose proxy passes it on cannot pose as the gateway."""
    server, _proxy, gateway = behind_the_gateway
    sneaked = {
        "X_Forwarded_Email": "bob@example.com",
        "X_Gateway_Assertion": gateway.sign(gateway.assertion_claims("bob@example.com")),
    }
    head = f"GET {WHOAMI} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in sneaked.items()) + "\r\n"
    with socket.create_connection(
        ("127.0.0.1", server.port), timeout=60, source_address=(GATEWAY_ADDRESS, 0)
    ) as s:
        s.sendall(head.encode())
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk

    assert answer.split(b"\r\n", 1)[0] in (b"HTTP/1.1 401 Unauthorized", b"HTTP/1.1 403 Forbidden"), answer[
        :300
    ]
    assert b"bob@example.com" not in answer
