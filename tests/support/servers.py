"""Real Label Studio server processes for tests: their environment, a bootstrapped database."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.label_studio import BASE_ENV, new_data_dir
from tests.support.processes import stop_process_group, wait_for_health
from tests.support.repository import REPO

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


def bootstrap_database() -> Path:
    """A migrated database with a staff owner (legacy token) and alice."""
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
        self,
        name: str,
        command: list[str],
        data_dir: Path,
        port: int,
        log: Path,
        cwd: Path,
        env: dict[str, str] | None = None,
    ) -> None:
        self.name = name
        self.url = f"http://127.0.0.1:{port}"
        self.log = log
        self.process = subprocess.Popen(
            command,
            env=env or environment(data_dir, PORT=str(port)),
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


def data_dir_with(database: Path, tmp_path: Path) -> Path:
    """A data directory of this test's own, holding a copy of ``database``."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "label_studio.sqlite3").write_bytes(database.read_bytes())
    return data_dir


@contextmanager
def healthy(server: Server) -> Iterator[Server]:
    """The server once it answers /health; stopped afterwards, whatever happened."""
    try:
        server.wait_until_healthy()
        yield server
    finally:
        server.stop()
