"""The one email rule through a trusted gateway: plain headers (UTF-8, as a WSGI server hands
them to Django) and signed assertions (Node's ``jose``) reach no look-alike and create none.
"""

from __future__ import annotations

from typing import Any

from django.test import Client

from tests.support.email_rule import EXPECTED, through_every_case
from tests.support.gateway import GATEWAY


def as_wsgi_header(value: str) -> str:
    """What a WSGI server hands Django for a header the gateway sent in UTF-8 (Latin-1 text)."""
    return value.encode("utf-8").decode("latin-1")


def via_gateway(headers: dict[str, str]) -> str:
    """Whom a request the gateway forwards with ``headers`` is, or the reason it was refused."""
    response = Client(REMOTE_ADDR=GATEWAY).get("/api/current-user/whoami", headers=headers)
    if response.status_code != 200:
        return str(response["X-Label-Studio-SSO"])
    return str(response.json()["email"])


def test_gateway_headers_log_in_or_create_no_look_alike(
    look_alike_targets: Any, headers_gateway: None
) -> None:
    assert (
        through_every_case(lambda sent: via_gateway({"X-Forwarded-Email": as_wsgi_header(sent)})) == EXPECTED
    )


def test_gateway_assertions_log_in_or_create_no_look_alike(
    look_alike_targets: Any, assertion_gateway: Any
) -> None:
    signer = assertion_gateway

    def gateway_assertion(sent: str) -> str:
        return via_gateway({"Cf-Access-Jwt-Assertion": signer.sign(signer.assertion_claims(sent))})

    assert through_every_case(gateway_assertion) == EXPECTED
