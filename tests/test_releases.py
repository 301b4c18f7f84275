"""The Label Studio releases this package supports (1.20.0 to 1.23.x) and what differs between them.

Each difference label_studio_sso/releases.py handles has a test here; scripts/test --matrix
runs this file (with the rest of the in-process suite) on every supported release.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db.migrations.loader import MigrationLoader

from label_studio_sso import releases
from label_studio_sso.container.environment import EnvironmentInvalid, check
from settings_overlay.label_studio_import import label_studio_directory
from tests.support.label_studio import BASE_ENV
from tests.support.repository import REPO

INSTALLED = releases.installed_label_studio()


def test_the_installed_label_studio_is_a_supported_release() -> None:
    assert INSTALLED is not None
    assert releases.unsupported_release(INSTALLED) is None


@pytest.mark.parametrize("version", ["1.20.0", "1.21.0", "1.22.0", "1.23.0", "1.23.2", "1.23.9"])
def test_every_supported_release_passes_the_check(version: str, monkeypatch: Any) -> None:
    monkeypatch.setattr("label_studio_sso.checks.installed_label_studio", lambda: version)
    call_command("check", "--fail-level", "ERROR")  # raises SystemCheckError on any error


@pytest.mark.parametrize("version", ["1.19.1", "1.24.0", "2.0.0", "0.9", "nightly"])
def test_a_release_outside_the_range_is_a_check_error_naming_it(version: str, monkeypatch: Any) -> None:
    monkeypatch.setattr("label_studio_sso.checks.installed_label_studio", lambda: version)
    with pytest.raises(SystemCheckError) as raised:
        call_command("check")
    message = str(raised.value)
    assert f"(label_studio_sso.E017) Label Studio {version} is installed" in message
    assert "supports 1.20.0 to 1.23.x" in message
    assert "Traceback" not in message


def test_the_image_refuses_to_start_on_a_release_outside_the_range(monkeypatch: Any) -> None:
    monkeypatch.setattr("label_studio_sso.container.environment.installed_label_studio", lambda: "1.19.1")
    with pytest.raises(EnvironmentInvalid, match=r"Label Studio 1\.19\.1 is installed.*FROM a supported"):
        check({})


def test_plain_django_without_label_studio_is_not_a_release_problem() -> None:
    assert releases.unsupported_release(None) is None


def test_our_migrations_name_no_label_studio_migration_by_number() -> None:
    """1.20.0's users app stops at 0010: a dependency on 1.21's 0011 broke every migrate there."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    ours = [migration for (app, _), migration in loader.disk_migrations.items() if app == "label_studio_sso"]
    assert len(ours) >= 5
    foreign = {
        (migration.name, dependency)
        for migration in ours
        for dependency in migration.dependencies
        if dependency[0] != "label_studio_sso" and dependency[1] != "__first__"
    }
    assert foreign == set()


def test_the_postgresql_driver_is_the_one_label_studio_ships() -> None:
    """psycopg2 on 1.20 and 1.21, psycopg 3 from 1.22: the image's database wait uses either."""
    minor = tuple(int(part) for part in INSTALLED.split(".")[:2])
    expected = "psycopg" if minor >= (1, 22) else "psycopg2"
    assert releases.postgres_driver().__name__ == expected


class _ConnectionCounter:
    """A TCP listener standing in for an HTTPS proxy: it counts who tried to go out through it."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.connections = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            self.connections += 1
            connection.close()

    def close(self) -> None:
        self.server.close()


def _load_settings_through(proxy_port: int, tmp_path: Any, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items() if "PROXY" not in key.upper()}
    environment.pop("LATEST_VERSION_CHECK", None)
    base = {key: value for key, value in BASE_ENV.items() if key != "LATEST_VERSION_CHECK"}
    proxy = f"http://127.0.0.1:{proxy_port}"
    environment.update(base, HTTPS_PROXY=proxy, HTTP_PROXY=proxy, NO_PROXY="", **env)
    environment["LABEL_STUDIO_BASE_DATA_DIR"] = str(tmp_path)
    code = f"import sys; sys.path.insert(0, {label_studio_directory()!r}); import django; django.setup()"
    return subprocess.run(
        [sys.executable, "-c", code], env=environment, cwd=REPO, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(("setting", "requests_expected"), [(None, 0), ("false", 0), ("true", 1)])
def test_no_request_for_the_latest_release_unless_asked_on_every_release(
    setting: str | None, requests_expected: int, tmp_path: Any
) -> None:
    """1.20 and 1.21 asked PyPI while their settings loaded even with LATEST_VERSION_CHECK=false.

    ``true`` is the control: the same start does reach the stand-in proxy when asked to.
    """
    counter = _ConnectionCounter()
    try:
        env = {} if setting is None else {"LATEST_VERSION_CHECK": setting}
        result = _load_settings_through(counter.port, tmp_path, **env)
    finally:
        counter.close()
    assert result.returncode == 0, result.stderr[-2000:]
    assert min(counter.connections, 1) == requests_expected
