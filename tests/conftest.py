"""Test harness: real Label Studio settings through the overlay, on a migrated SQLite file.

Before Django starts, this module points Label Studio at a throw-away data directory
holding a copy of the migrated database template (see tests.support.label_studio), so
pytest-django never migrates: each test runs inside a transaction that is rolled back.

The fixtures here are the ones tests of several folders use; each way in's own are in its
folder's conftest.py (tests/oidc/, tests/proxy/, tests/portal_signed/, tests/scim/).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.label_studio import BASE_ENV, legacy_token_of, new_data_dir

# --- start Django on Label Studio's real settings, before pytest-django looks -----------

DATA_DIR = new_data_dir()
os.environ.update({**BASE_ENV, "LABEL_STUDIO_BASE_DATA_DIR": str(DATA_DIR)})
for _name in list(os.environ):
    if _name.startswith(("SSO_", "JWT_SSO_")):
        del os.environ[_name]

from django.conf import settings  # noqa: E402

settings.INSTALLED_APPS  # noqa: B018  (imports the overlay; pytest-django then calls django.setup())
# A cheap password hasher, as Django's testing documentation advises: PBKDF2's real cost
# (about a second for each test that makes users, here) is not what any test is about.
settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session")
def django_db_setup(django_db_blocker: Any) -> Iterator[None]:
    """The database is the migrated copy in DATA_DIR; each test runs in a rolled-back transaction."""
    yield
    shutil.rmtree(DATA_DIR, ignore_errors=True)


@pytest.fixture(autouse=True)
def _fresh_state(db: Any) -> Iterator[None]:
    """Every test starts with an empty cache (rate limits) and default SSO settings."""
    from django.core.cache import cache

    from label_studio_sso.conf import sso_settings

    cache.clear()
    sso_settings.reload()
    yield
    cache.clear()
    sso_settings.reload()


# --- Label Studio users, organizations and credentials, made with LS's own functions ----


@pytest.fixture
def organization_owner() -> Any:
    """A staff user who owns an organization that still allows legacy API tokens."""
    from organizations.functions import create_organization
    from users.models import User

    owner = User.objects.create_user(email="owner@example.com", password="Owner-password-123")
    owner.is_staff = True
    owner.save(update_fields=["is_staff"])
    organization = create_organization(title="Portal org", created_by=owner, legacy_api_tokens_enabled=True)
    owner.active_organization = organization
    owner.save(update_fields=["active_organization"])
    return owner


@pytest.fixture
def make_user(organization_owner: Any) -> Callable[..., Any]:
    """Create a member of the owner's organization."""
    from users.models import User

    def make(email: str, *, active: bool = True, staff: bool = False, superuser: bool = False) -> Any:
        user = User.objects.create_user(email=email, password="Member-password-123")
        user.is_active, user.is_staff, user.is_superuser = active, staff, superuser
        user.active_organization = organization_owner.active_organization
        user.save()
        organization_owner.active_organization.add_user(user)
        return user

    return make


@pytest.fixture
def alice(make_user: Callable[..., Any]) -> Any:
    return make_user("alice@example.com")


@pytest.fixture
def bob(make_user: Callable[..., Any]) -> Any:
    return make_user("bob@example.com")


@pytest.fixture
def look_alike_targets(make_user: Callable[..., Any], settings: Any) -> dict[str, Any]:
    """The accounts the look-alike corpus aims at, with creation on, so that a refusal is never
    for want of an account (every way in's ``test_email_rule.py``)."""
    from tests.support.confusable_emails import TARGETS

    settings.SSO_CREATE_USERS = True
    return {email: make_user(email) for email in TARGETS}


@pytest.fixture
def alice_browser(issue: Callable[..., str], alice: Any) -> Any:
    """A test browser logged in as alice through a URL token."""
    from django.test import Client

    from tests.support.label_studio import whoami

    browser = Client()
    browser.get(f"/?token={issue('alice@example.com')}")
    assert whoami(browser) == "alice@example.com"
    return browser


@pytest.fixture
def owner_token(organization_owner: Any) -> str:
    """The owner's legacy API token (``Authorization: Token …``)."""
    return legacy_token_of(organization_owner)


@pytest.fixture
def api() -> Callable[..., Any]:
    """POST /api/sso/token like a portal's server: JSON body, an API credential, no cookies."""
    from django.test import Client

    def post(body: Any = None, *, auth: str | None = None, raw: bytes | None = None, **extra: Any) -> Any:
        data = raw if raw is not None else json.dumps(body if body is not None else {})
        headers = {"HTTP_AUTHORIZATION": auth} if auth else {}
        extra.setdefault("content_type", "application/json")
        return Client().post("/api/sso/token", data=data, **headers, **extra)

    return post


@pytest.fixture
def issue(api: Callable[..., Any], owner_token: str) -> Callable[..., str]:
    """A fresh login token for ``email``, issued by the organization owner."""

    def issue_for(email: str, **body: Any) -> str:
        response = api({"email": email, **body}, auth=f"Token {owner_token}")
        assert response.status_code == 200, response.content
        return response.json()["token"]

    return issue_for


@pytest.fixture(scope="session")
def postgres() -> Iterator[Any]:
    """A real PostgreSQL server on 127.0.0.1 for the tests that need a shared database."""
    from tests.support.postgres import PostgresServer

    server = PostgresServer()
    yield server
    server.stop()


def pytest_collection_modifyitems(items: list[Any]) -> None:
    """Mark what needs a local PostgreSQL (run as root through runuser) by the fixture it uses,
    so ``-m "not postgres"`` (scripts/test --fast) leaves those out without a list to keep."""
    for item in items:
        if "postgres" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgres)


@pytest.fixture(scope="session")
def bootstrapped_database() -> Path:
    """A migrated database with a staff owner (legacy token) and alice, made once per run."""
    from tests.support.servers import bootstrap_database

    return bootstrap_database()


@pytest.fixture(scope="session")
def gateway_signer(tmp_path_factory: Any) -> Iterator[Any]:
    """gateway.mjs: jose signing assertions and portal tokens, its JWKS over HTTPS (see ``signer``)."""
    from tests.support.gateway import running_gateway

    with running_gateway(tmp_path_factory.mktemp("gateway"), slow_ms=3000) as gateway:
        yield gateway


@pytest.fixture
def signer(gateway_signer: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The signer, reset, its CA trusted by Label Studio for this test only, no key set cached."""
    from label_studio_sso.jwks import forget_key_sources

    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(gateway_signer.ca_file))
    forget_key_sources()
    gateway_signer.reset()
    yield gateway_signer
    forget_key_sources()
    gateway_signer.reset()
