"""The image's own Python, run on this machine: serve.py, healthcheck.py and the demo portal.

``docker/serve.py`` migrates under the lock, makes the first user and the demo data, and
starts gunicorn from the loaded process; the healthcheck asks it where it listens; the
demo portal signs users in and sends them into that Label Studio by both transports.
The same scripts run in the image (tests/e2e); here coverage can see them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.support.processes import free_port, stop_process_group, wait_for_health
from tests.support.repository import REPO
from tests.support.servers import ADMIN_TOKEN, Server, data_dir_with, environment, healthy

pytestmark = pytest.mark.servers

DOCKER = REPO / "docker"


def image_environment(data_dir: Path, port: int) -> dict[str, str]:
    return environment(
        data_dir,
        PYTHONPATH=str(REPO),  # the image's PYTHONPATH holds the package and the overlay
        LISTEN_ADDRESS="127.0.0.1",
        PORT=str(port),
        WEB_CONCURRENCY="1",
        LABEL_STUDIO_USERNAME="admin@example.com",
        LABEL_STUDIO_PASSWORD="Admin-password-123",
        LSSO_DEMO_DATA="true",
        SSO_CREATE_USERS="true",  # as compose.yaml's demo: dana is created on her first login
    )


@pytest.fixture
def served(bootstrapped_database: Path, tmp_path: Path) -> Iterator[Server]:
    data_dir = data_dir_with(bootstrapped_database, tmp_path)
    port = free_port()
    command = [sys.executable, str(DOCKER / "serve.py")]
    env = image_environment(data_dir, port)
    with healthy(Server("serve.py", command, data_dir, port, tmp_path / "server.log", REPO, env)) as running:
        yield running


def healthcheck(port: int) -> int:
    return subprocess.run(
        [sys.executable, str(DOCKER / "healthcheck.py")],
        env={
            **os.environ,
            "PYTHONPATH": str(REPO),
            "LISTEN_ADDRESS": "127.0.0.1",
            "PORT": str(port),
        },
        timeout=30,
    ).returncode


@pytest.fixture
def portal(served: Server, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(DOCKER / "demo_portal.py")],
        env={
            **os.environ,
            "LABEL_STUDIO_URL": served.url,
            "LABEL_STUDIO_API_TOKEN": ADMIN_TOKEN,
            "PORTAL_PORT": str(port),
            "PORTAL_LISTEN_ADDRESS": "127.0.0.1",
        },
        stdout=(tmp_path / "portal.log").open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_health(
            url, 30, lambda: process.poll() is None, lambda: (tmp_path / "portal.log").read_text(), "/"
        )
        yield url
    finally:
        stop_process_group(process)


def signed_in(portal: str, email: str) -> requests.Session:
    browser = requests.Session()
    answer = browser.post(f"{portal}/signin", data={"email": email}, timeout=30)
    assert answer.status_code == 200 and email in answer.text
    return browser


def test_serve_makes_the_first_user_and_the_demo_data_and_answers_the_healthcheck(served: Server) -> None:
    port = int(served.url.rsplit(":", 1)[1])
    assert healthcheck(port) == 0
    output = served.output()
    assert "ensuring Label Studio user admin@example.com exists" in output
    assert "ensuring the demo portal's users and project exist" in output
    assert "starting gunicorn on 127.0.0.1:" in output and "with 1 workers of 4 threads" in output
    admin = requests.post(
        f"{served.url}/api/sso/token",
        json={"email": "bob@example.com"},  # made by the demo data
        headers={"Authorization": f"Token {ADMIN_TOKEN}"},
        timeout=30,
    )
    assert admin.status_code == 200, admin.text
    served.stop()
    assert healthcheck(port) == 1
    # `serve.py prepare` (an init container's job): the same start, then exit before gunicorn
    data_dir = served.log.parent / "data"
    prepared = subprocess.run(
        [sys.executable, str(DOCKER / "serve.py"), "prepare"],
        env=image_environment(data_dir, port),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert prepared.returncode == 0, prepared.stdout[-2000:]
    assert (
        "ensuring the demo portal's users" in prepared.stdout and "starting gunicorn" not in prepared.stdout
    )


@pytest.mark.parametrize("via", ["url", "cookie"])
def test_the_demo_portal_sends_alice_into_the_demo_project(served: Server, portal: str, via: str) -> None:
    browser = signed_in(portal, "alice@example.com")
    landed = browser.get(f"{portal}/launch?via={via}", timeout=60)
    assert landed.status_code == 200
    assert landed.url.startswith(f"{served.url}/projects/") and landed.url.endswith("/data")
    assert (
        browser.get(f"{served.url}/api/current-user/whoami", timeout=30).json()["email"]
        == "alice@example.com"
    )


def test_the_demo_portal_creates_dana_on_her_first_login_and_its_sign_out_ends_her_session(
    served: Server, portal: str
) -> None:
    browser = signed_in(portal, "dana@example.com")
    landed = browser.get(f"{portal}/launch?via=url", timeout=60)
    assert landed.url.startswith(f"{served.url}/projects/") and landed.url.endswith("/data")
    me = browser.get(f"{served.url}/api/current-user/whoami", timeout=30).json()
    assert (me["email"], me["first_name"], me["last_name"]) == ("dana@example.com", "Dana", "Newcomer")

    browser.get(f"{portal}/signout", timeout=30)

    assert browser.get(f"{served.url}/api/current-user/whoami", timeout=30).status_code == 401


def test_the_demo_portal_shows_refusals_and_refuses_strangers(served: Server, portal: str) -> None:
    refused = signed_in(portal, "carol@example.com").get(f"{portal}/launch", timeout=60)
    assert "Label Studio refused the login (422 USER_INACTIVE)" in refused.text
    stranger = requests.Session()
    assert (
        "Pick one of the demo users."
        in stranger.post(f"{portal}/signin", data={"email": "x@y"}, timeout=30).text
    )
    assert stranger.get(f"{portal}/app", allow_redirects=False, timeout=30).headers["Location"] == "/"
    assert stranger.get(f"{portal}/nowhere", timeout=30).status_code == 404
    signed_out = signed_in(portal, "bob@example.com")
    signed_out.get(f"{portal}/signout", timeout=30)
    assert signed_out.get(f"{portal}/launch", allow_redirects=False, timeout=30).headers["Location"] == "/"


def test_the_demo_portal_needs_an_api_token() -> None:
    started = subprocess.run(
        [sys.executable, str(DOCKER / "demo_portal.py")],
        env={**os.environ, "LABEL_STUDIO_API_TOKEN": ""},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert (started.returncode, started.stderr) == (
        64,
        "portal: error: LABEL_STUDIO_API_TOKEN (or _FILE) is required\n",
    )
