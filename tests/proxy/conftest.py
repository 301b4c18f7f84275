"""Trusted gateways' fixtures: Label Studio behind a gateway that sends plain identity headers,
or one that sends an assertion signed by the key-set signer (``signer``)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.gateway import ASSERTION_AUDIENCE, ASSERTION_ISSUER, GATEWAY_NETWORK


@pytest.fixture
def headers_gateway(settings: Any, organization_owner: Any) -> None:
    settings.SSO_TRUSTED_PROXIES = GATEWAY_NETWORK
    settings.SSO_PROXY_EMAIL_HEADER = "X-Forwarded-Email"
    settings.SSO_PROXY_NAME_HEADER = "X-Forwarded-Name"
    settings.SSO_PROXY_GROUPS_HEADER = "X-Forwarded-Groups"


@pytest.fixture
def assertion_gateway(signer: Any, settings: Any, organization_owner: Any) -> Any:
    settings.SSO_TRUSTED_PROXIES = GATEWAY_NETWORK
    settings.SSO_PROXY_JWT_HEADER = "Cf-Access-Jwt-Assertion"
    settings.SSO_PROXY_EMAIL_HEADER = "X-Forwarded-Email"  # ignored once an assertion is configured
    settings.SSO_PROXY_JWKS_URL = signer.jwks_url
    settings.SSO_PROXY_JWT_AUDIENCE = ASSERTION_AUDIENCE
    settings.SSO_PROXY_JWT_ISSUER = ASSERTION_ISSUER
    return signer
