"""The overlay the way Label Studio is really started: manage.py, gunicorn, label-studio start.

Each test starts a real server process on a copy of the migrated database, drives a
login over HTTP with ``requests``, and checks the process's own output for tokens.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from settings_overlay.label_studio_import import label_studio_directory
from tests.support.processes import free_port
from tests.support.repository import REPO
from tests.support.servers import ADMIN_TOKEN, Server, data_dir_with, healthy

pytestmark = pytest.mark.servers


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
    data_dir = data_dir_with(bootstrapped_database, tmp_path)
    port = free_port()
    command, cwd = commands(port)[request.param]
    with healthy(Server(request.param, command, data_dir, port, tmp_path / "server.log", cwd)) as running:
        yield running


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
