"""OpenID Connect's fixtures: a real provider (oidc-provider from npm, over HTTPS) and Label
Studio configured for it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory: Any) -> Iterator[Any]:
    """The provider, over HTTPS with a CA made for this run (see ``trusting_the_provider``)."""
    from tests.support.oidc import running_provider

    with running_provider(
        tmp_path_factory.mktemp("oidc-provider"),
        redirect_uris=["http://testserver/sso/oidc/callback/"],
        post_logout_redirect_uris=["http://testserver/user/login/"],
        # Registered so the provider puts ``sid`` in ID tokens; no test here signs out at the
        # provider, which would call it (the end-to-end tests do, against a running server).
        backchannel_logout_uri="http://testserver/sso/oidc/backchannel-logout/",
    ) as provider:
        yield provider


@pytest.fixture
def trusting_the_provider(oidc_provider: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Label Studio's HTTP client trusts the provider's test CA, for this test only: left set,
    it would break every later HTTPS call of the run (pip building the image, for one)."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(oidc_provider.ca_file))
    return oidc_provider


@pytest.fixture
def oidc(trusting_the_provider: Any, settings: Any, organization_owner: Any) -> Iterator[Any]:
    """Label Studio configured for the provider, with fresh discovery and keys; an organization exists."""
    from label_studio_sso.oidc.provider import forget_clients
    from tests.support.oidc import CLIENT_ID, CLIENT_SECRET

    oidc_provider = trusting_the_provider

    settings.SSO_OIDC_ISSUER = oidc_provider.issuer
    settings.SSO_OIDC_CLIENT_ID = CLIENT_ID
    settings.SSO_OIDC_CLIENT_SECRET = CLIENT_SECRET
    settings.SSO_OIDC_DISPLAY_NAME = "Example IdP"
    forget_clients()
    oidc_provider.reset()
    yield oidc_provider
    forget_clients()
    oidc_provider.reset()
