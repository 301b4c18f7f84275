"""End-to-end helpers: containers of the built image, run with testcontainers.

The image is built once per run by docker/build-image (official base or offline base).
Containers use the host's network and listen on 127.0.0.1 only, each on its own port.
SQLite containers start from a copy of the migrated database template (the same Label
Studio version and migrations), so only the PostgreSQL tests pay for a full migration.
Docker is required: without it these tests fail, they are never skipped.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests

from tests.support.label_studio import migrated_template
from tests.support.processes import free_port, wait_for_health

os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")  # the reaper image cannot be pulled here

from testcontainers.core.container import DockerContainer

# The image under test is built on the venv's Label Studio release (LABEL_STUDIO_VERSION, as
# docker/build-image reads it); another release's image gets a tag of its own.
LABEL_STUDIO_RELEASE = importlib.metadata.version("label-studio")
IMAGE_TAG = "label-studio-sso:test" + ("" if LABEL_STUDIO_RELEASE == "1.23.2" else f"-{LABEL_STUDIO_RELEASE}")
ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "Admin-password-123"
ADMIN_TOKEN = "e2e0123456789abcdef0123456789abcdef0123"
CONTAINER_UID = 1001
USERS_SCRIPT = """
from organizations.models import Organization
from users.models import User
organization = Organization.objects.first()
for email, staff in (("alice@example.com", False), ("bob@example.com", False)):
    if not User.objects.filter(email=email).exists():
        user = User.objects.create_user(email=email, password="Member-password-123", is_staff=staff)
        user.active_organization = organization
        user.save()
        organization.add_user(user)
"""


def sqlite_data_dir() -> Path:
    """A data directory the container's user owns, holding the migrated template."""
    data_dir = Path(tempfile.mkdtemp(prefix="lsso-e2e-"))
    shutil.copyfile(migrated_template(), data_dir / "label_studio.sqlite3")
    for path in (data_dir, data_dir / "label_studio.sqlite3"):
        os.chown(path, CONTAINER_UID, 0)
    return data_dir


class LabelStudio:
    """One running container of the image, with its URL, its logs and helpers."""

    def __init__(
        self,
        image: str,
        env: dict[str, str],
        data_dir: Path | None = None,
        port: int | None = None,
        volumes: dict[str, str] | None = None,
        scheme: str = "http",
    ) -> None:
        self.port = port or free_port()
        self.url = f"{scheme}://127.0.0.1:{self.port}"
        self.data_dir = data_dir
        self.container = DockerContainer(image).with_kwargs(network_mode="host")
        base = {
            "PORT": str(self.port),
            "LISTEN_ADDRESS": "127.0.0.1",
            "WEB_CONCURRENCY": "2",
            "LOG_LEVEL": "INFO",
        }
        for name, value in {**base, **env}.items():
            self.container.with_env(name, value)
        if data_dir is not None:
            self.container.with_volume_mapping(str(data_dir), "/label-studio/data", "rw")
        for host_path, container_path in (volumes or {}).items():
            self.container.with_volume_mapping(host_path, container_path, "ro")

    def start(self, timeout: float = 240) -> LabelStudio:
        self.container.start()
        self.wait_until_healthy(timeout)
        return self

    def wait_until_healthy(self, timeout: float = 240) -> None:
        wait_for_health(self.url, timeout, self.running, self.logs)

    def running(self) -> bool:
        self.container.get_wrapped_container().reload()
        return self.container.get_wrapped_container().status != "exited"

    def logs(self) -> str:
        stdout, stderr = self.container.get_logs()
        return (stdout + stderr).decode(errors="replace")

    def restart(self) -> None:
        self.container.get_wrapped_container().restart(timeout=30)
        self.wait_until_healthy()

    def exec_python(self, code: str) -> str:
        result = self.container.exec(["python3", "-m", "django", "shell", "-c", code])
        assert result.exit_code == 0, result.output.decode(errors="replace")[-3000:]
        return result.output.decode(errors="replace")

    def stop(self) -> None:
        self.container.stop()

    def issue(self, email: str, *, auth: str = f"Token {ADMIN_TOKEN}", **body: Any) -> requests.Response:
        return requests.post(
            f"{self.url}/api/sso/token",
            json={"email": email, **body},
            headers={"Authorization": auth},
            timeout=30,
            verify=False,  # the tests' own throw-away certificate, when serving HTTPS
        )


def whoami(server: LabelStudio, browser: requests.Session) -> str | None:
    """The email Label Studio's own API says ``browser``'s session belongs to, or None."""
    response = browser.get(f"{server.url}/api/current-user/whoami", timeout=60)
    return response.json()["email"] if response.status_code == 200 else None


def user_id_of(server: LabelStudio, email: str) -> int:
    """A user's primary key, asked of the container's own Django."""
    output = server.exec_python(
        f"from users.models import User; print('ID', User.objects.get(email={email!r}).pk)"
    )
    return int(output.split("ID ")[-1])


def assert_no_token_in(logs: str, tokens: list[str]) -> None:
    """No payload or signature of any issued token appears in the logs."""
    for token in tokens:
        _header, payload, signature = token.split(".")
        assert payload not in logs
        assert signature not in logs


CHROMIUM = Path("/usr/bin/chromium")


def label_studio_frame(page: Any, pattern: str, timeout: float = 60) -> Any:
    """The portal's Label Studio iframe once its document's URL matches ``pattern``.

    A failure names the URL the iframe stayed at (without its query: it may hold a token).
    """
    element = page.wait_for_selector("iframe#label-studio")
    wanted = re.compile(pattern)
    deadline = time.monotonic() + timeout
    while True:
        frame = element.content_frame()
        url = frame.url if frame is not None else "(no document)"
        if frame is not None and wanted.search(url):
            frame.wait_for_load_state("load")
            return frame
        if time.monotonic() > deadline:
            raise AssertionError(f"Label Studio's iframe stayed at {url.split('?', 1)[0]}")
        page.wait_for_timeout(250)


class Portal:
    """The demo portal, from the same image with another command."""

    def __init__(
        self,
        image: str,
        label_studio: LabelStudio,
        public_url: str,
        port: int,
        host: str = "portal.example.test",
        **env: str,
    ) -> None:
        self.port = port
        self.url = f"http://{host}:{self.port}"
        self.container = DockerContainer(image).with_kwargs(network_mode="host")
        self.container.with_command(["python3", "/label-studio-sso/demo_portal.py"])
        for name, value in {
            "PORTAL_PORT": str(self.port),
            "PORTAL_LISTEN_ADDRESS": "127.0.0.1",
            "LABEL_STUDIO_URL": label_studio.url,
            "LABEL_STUDIO_PUBLIC_URL": public_url,
            "LABEL_STUDIO_API_TOKEN": ADMIN_TOKEN,
            "PORTAL_COOKIE_DOMAIN": ".example.test",
            **env,
        }.items():
            self.container.with_env(name, value)

    def start(self) -> Portal:
        self.container.start()
        for _ in range(60):
            try:
                requests.get(f"http://127.0.0.1:{self.port}/", timeout=2)
                return self
            except requests.RequestException:
                time.sleep(0.5)
        raise AssertionError(self.container.get_logs())


@contextlib.contextmanager
def serve_page(body: str) -> Iterator[int]:
    """Serve one HTML page on 127.0.0.1 (another site, for the browser); yield its port."""

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield httpd.server_address[1]
    finally:
        httpd.shutdown()
