"""The overlay the way Label Studio is really started: manage.py, gunicorn, label-studio start.

Each test starts a real server process on a copy of the migrated database, drives a
login over HTTP with ``requests``, and checks the process's own output for tokens.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from sso_support import BASE_ENV, REPO, free_port, new_data_dir, stop_process_group, wait_for_health

from settings_overlay.label_studio_import import label_studio_directory

pytestmark = pytest.mark.servers

ADMIN_TOKEN = "0123456789abcdef0123456789abcdef01234567"
BOOTSTRAP = f"""
from organizations.functions import create_organization
from rest_framework.authtoken.models import Token
from users.models import User
owner = User.objects.create_user(email="owner@example.com", password="Owner-password-123", is_staff=True)
organization = create_organization(title="Servers", created_by=owner, legacy_api_tokens_enabled=True)
owner.active_organization = organization
owner.save()
Token.objects.filter(user=owner).delete()  # Label Studio made one by signal
Token.objects.create(user=owner, key="{ADMIN_TOKEN}")
alice = User.objects.create_user(email="alice@example.com", password="Member-password-123")
alice.active_organization = organization
alice.save()
organization.add_user(alice)
"""


def environment(data_dir: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        **BASE_ENV,
        "LABEL_STUDIO_BASE_DATA_DIR": str(data_dir),
        "LOG_LEVEL": "INFO",
        **extra,
    }


@pytest.fixture(scope="module")
def bootstrapped_database(tmp_path_factory: Any) -> Path:
    """A migrated database with a staff owner (legacy token) and alice, made once."""
    data_dir = new_data_dir(prefix="lsso-servers-")
    subprocess.run(
        [sys.executable, "-m", "django", "shell", "-c", BOOTSTRAP],
        env=environment(data_dir),
        cwd=REPO,
        check=True,
        capture_output=True,
        timeout=180,
    )
    return data_dir / "label_studio.sqlite3"


class Server:
    """A Label Studio process whose combined output is kept for inspection."""

    def __init__(
        self, name: str, command: list[str], data_dir: Path, port: int, log: Path, cwd: Path
    ) -> None:
        self.name = name
        self.url = f"http://127.0.0.1:{port}"
        self.log = log
        self.process = subprocess.Popen(
            command,
            env=environment(data_dir, PORT=str(port)),
            cwd=cwd,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_until_healthy(self, timeout: float = 120) -> None:
        wait_for_health(self.url, timeout, lambda: self.process.poll() is None, self.output)

    def stop(self) -> None:
        stop_process_group(self.process)

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def commands(port: int) -> dict[str, tuple[list[str], Path]]:
    ls_dir = Path(label_studio_directory())
    bin_dir = Path(sys.executable).parent
    return {
        "manage.py runserver": (
            [sys.executable, str(ls_dir / "manage.py"), "runserver", "--noreload", f"127.0.0.1:{port}"],
            REPO,
        ),
        "gunicorn core.wsgi": (
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--config",
                str(REPO / "docker" / "gunicorn.conf.py"),
                "--chdir",
                str(ls_dir),
                "--bind",
                f"127.0.0.1:{port}",
                "core.wsgi:application",
            ],
            REPO,
        ),
        "label-studio start": (
            [
                str(bin_dir / "label-studio"),
                "start",
                "--no-browser",
                "--internal-host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            REPO,
        ),
    }


@pytest.fixture(params=["manage.py runserver", "gunicorn core.wsgi", "label-studio start"])
def server(request: Any, bootstrapped_database: Path, tmp_path: Path) -> Iterator[Server]:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "label_studio.sqlite3").write_bytes(bootstrapped_database.read_bytes())
    port = free_port()
    command, cwd = commands(port)[request.param]
    running = Server(request.param, command, data_dir, port, tmp_path / "server.log", cwd)
    try:
        running.wait_until_healthy()
        yield running
    finally:
        running.stop()


def test_a_portal_logs_alice_in_through_a_real_server(server: Server) -> None:
    admin = {"Authorization": f"Token {ADMIN_TOKEN}"}
    issued = requests.post(
        f"{server.url}/api/sso/token",
        json={"email": "alice@example.com", "next": "/projects/"},
        headers=admin,
        timeout=30,
    )
    assert issued.status_code == 200, issued.text
    body = issued.json()
    assert body["login_url"].startswith(f"{server.url}/api/sso/login?token=")

    browser = requests.Session()
    landed = browser.get(body["login_url"], allow_redirects=False, timeout=30)
    assert (landed.status_code, landed.headers["Location"], landed.headers["X-Label-Studio-SSO"]) == (
        302,
        "/projects/",
        "logged-in",
    )
    assert (
        browser.get(f"{server.url}/api/current-user/whoami", timeout=30).json()["email"]
        == "alice@example.com"
    )

    cookie_token = requests.post(
        f"{server.url}/api/sso/token", json={"email": "alice@example.com"}, headers=admin, timeout=30
    ).json()["token"]
    other = requests.Session()
    other.cookies.set("ls_auth_token", cookie_token)
    assert (
        other.get(f"{server.url}/api/current-user/whoami", timeout=30).json()["email"] == "alice@example.com"
    )

    replay = requests.get(body["login_url"], allow_redirects=False, timeout=30)
    assert replay.headers["X-Label-Studio-SSO"] == "replayed"
    assert replay.headers["Location"].startswith("/user/login/")

    # the login and the replay, each logged once: gunicorn's access log without the query
    # string, the development servers' request line with the token redacted
    request_line = (
        '"GET /api/sso/login HTTP/1.1" 302'
        if server.name == "gunicorn core.wsgi"
        else "GET /api/sso/login?token=[redacted]&next=%2Fprojects%2F HTTP/1.1"
    )
    deadline = time.monotonic() + 30
    while server.output().count(request_line) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)  # a server writes a request's line after answering it
    server.stop()
    output = server.output()
    for token in (body["token"], cookie_token):
        _header, payload, signature = token.split(".")
        assert payload not in output and signature not in output
    assert "sso login succeeded" in output
    assert output.count(request_line) == 2
