"""SAML's fixtures: a real identity provider (samlify from npm, over HTTPS) and Label Studio
configured for it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

SP_ENTITY_ID = "http://testserver/sso/saml/metadata/"
ACS_URL = "http://testserver/sso/saml/acs/"


@pytest.fixture(scope="session")
def saml_idp(tmp_path_factory: Any) -> Iterator[Any]:
    from tests.support.saml import running_idp

    with running_idp(tmp_path_factory.mktemp("saml-idp"), sp_entity_id=SP_ENTITY_ID, acs_url=ACS_URL) as idp:
        yield idp


@pytest.fixture
def saml(
    saml_idp: Any, settings: Any, organization_owner: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Any]:
    """Label Studio configured for the IdP's metadata URL (its CA trusted for this test only)."""
    from label_studio_sso.saml.metadata import forget_metadata

    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(saml_idp.ca_file))
    settings.SSO_SAML_IDP_METADATA_URL = saml_idp.metadata_url
    settings.SSO_SAML_DISPLAY_NAME = "Example SAML"
    settings.SSO_CREATE_USERS = True
    forget_metadata()
    yield saml_idp
    forget_metadata()
