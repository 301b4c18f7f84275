"""SCIM's fixtures: Label Studio with a SCIM token and creation on, and a SCIM client that sends it."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.support.scim import TOKEN, Scim


@pytest.fixture
def scim(settings: Any, organization_owner: Any) -> Scim:
    settings.SSO_SCIM_TOKEN = TOKEN
    settings.SSO_CREATE_USERS = True
    return Scim(Client(REMOTE_ADDR="10.20.0.7"))
