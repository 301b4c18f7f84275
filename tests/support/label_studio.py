"""Label Studio for the tests: its quiet environment, the migrated database template, and
credentials made through Label Studio's own API.

The migrated template is built once (a ``migrate`` subprocess through the overlay) and
cached, keyed by the Label Studio version and our migrations, so no run migrates twice.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from tests.support.repository import CACHE, REPO

TEST_SECRET_KEY = "test-secret-key-for-label-studio-sso-unit-tests-0123456789"

# Environment every Label Studio process of the tests gets: nothing phones home.
BASE_ENV = {
    "DJANGO_SETTINGS_MODULE": "settings_overlay.settings",
    "SECRET_KEY": TEST_SECRET_KEY,
    "SENTRY_DSN": "",
    "FRONTEND_SENTRY_DSN": "",
    "LATEST_VERSION_CHECK": "false",
    "COLLECT_ANALYTICS": "false",
    "LOG_LEVEL": "WARNING",
    "DEBUG": "false",
}


def migrated_template() -> Path:
    """A migrated Label Studio + SSO SQLite file, built once per LS version and migration set."""
    digest = hashlib.sha256(importlib.metadata.version("label-studio").encode())
    for migration in sorted((REPO / "label_studio_sso" / "migrations").glob("*.py")):
        digest.update(migration.read_bytes())
    template = CACHE / "db-templates" / f"{digest.hexdigest()[:16]}.sqlite3"
    if template.exists():
        return template
    template.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lsso-migrate-") as data_dir:
        env = {**os.environ, **BASE_ENV, "LABEL_STUDIO_BASE_DATA_DIR": data_dir}
        subprocess.run(
            [sys.executable, "-m", "django", "migrate", "--no-input", "-v0"],
            env=env,
            cwd=REPO,
            check=True,
            timeout=600,
        )
        partial = template.with_suffix(".partial")
        shutil.copyfile(Path(data_dir) / "label_studio.sqlite3", partial)
        partial.replace(template)
    return template


def new_data_dir(prefix: str = "lsso-test-") -> Path:
    """A fresh Label Studio data directory holding a copy of the migrated database."""
    data_dir = Path(tempfile.mkdtemp(prefix=prefix))
    shutil.copyfile(migrated_template(), data_dir / "label_studio.sqlite3")
    return data_dir


def legacy_token_of(user: Any) -> str:
    from rest_framework.authtoken.models import Token

    return Token.objects.get_or_create(user=user)[0].key


def logged_in_browser(email: str, password: str) -> Any:
    """A test browser logged in through Label Studio's own login form."""
    from django.test import Client

    browser = Client()
    browser.get("/user/login/")
    csrf = browser.cookies["csrftoken"].value
    response = browser.post(
        "/user/login/", {"email": email, "password": password, "csrfmiddlewaretoken": csrf}
    )
    assert response.status_code == 302, response.content[:300]
    return browser


def personal_access_tokens(user: Any) -> tuple[str, str]:
    """(refresh, access) minted by Label Studio's own API for ``user``."""
    from django.test import Client

    legacy = {"HTTP_AUTHORIZATION": f"Token {legacy_token_of(user)}"}
    created = Client().post("/api/token/", content_type="application/json", **legacy)
    assert created.status_code == 201, created.content
    refresh = created.json()["token"]
    refreshed = Client().post("/api/token/refresh/", {"refresh": refresh}, content_type="application/json")
    assert refreshed.status_code == 200, refreshed.content
    return refresh, refreshed.json()["access"]


def whoami(client: Any) -> str | None:
    """The email Label Studio's own API says the client's session belongs to."""
    response = client.get("/api/current-user/whoami")
    return response.json()["email"] if response.status_code == 200 else None


def signed_login_token(user: Any, **changes: Any) -> str:
    """A login token signed with the test instance's key, with any claim changed (e.g. expired)."""
    from tests.support.hostile_tokens import assemble, claims, keys_for

    keys = keys_for(TEST_SECRET_KEY)
    return assemble(
        {"alg": "HS256", "typ": "JWT", "kid": keys.kid}, claims(user.pk, user.email, **changes), keys.secret
    )


def csrf_post(client: Any, path: str, data: dict[str, str], **extra: Any) -> Any:
    """POST a form the way a browser does after loading the page: with the CSRF cookie's token."""
    return client.post(path, {**data, "csrfmiddlewaretoken": client.cookies["csrftoken"].value}, **extra)
