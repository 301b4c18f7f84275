"""Portal-signed tokens' fixtures: Label Studio trusting the key-set signer's keys as a portal's."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.gateway import PORTAL_AUDIENCE, PORTAL_ISSUER


@pytest.fixture
def portal(signer: Any, settings: Any, organization_owner: Any) -> Any:
    """Label Studio accepts tokens the signer's keys sign for the portal."""
    settings.SSO_ISSUER_JWKS_URL = signer.jwks_url
    settings.SSO_ISSUER = PORTAL_ISSUER
    settings.SSO_ISSUER_AUDIENCE = PORTAL_AUDIENCE
    return signer
