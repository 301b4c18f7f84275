"""Vanilla Label Studio and Label Studio + SSO, each started the way the image starts it.

Both run the image's own ``docker/serve.py`` (migrate, then gunicorn with the image's
settings and ``preload_app``, workers forked from the loaded process), the same worker
count, the same Python and Label Studio, each on its own copy of one SQLite database; the
only difference is the settings module: Label Studio's own ``core.settings.label_studio``
or this project's ``settings_overlay.settings``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.support.label_studio import BASE_ENV, migrated_template  # the tests' quiet env and cached template
from tests.support.processes import free_port, stop_process_group

from .measure import request

REPO = Path(__file__).resolve().parent.parent

SECRET_KEY = "bench-secret-key-shared-by-both-servers-0123456789abcdef"
OWNER = ("owner@example.com", "Owner-password-123")
MEMBER = ("alice@example.com", "Member-password-123")
OWNER_TOKEN = "0123456789abcdef0123456789abcdef01234567"
REDEEMED_TABLE = "label_studio_sso_redeemedtoken"
SETTINGS = {"vanilla": "core.settings.label_studio", "sso": "settings_overlay.settings"}

# Nothing phones home; the token API's per-issuer limit is lifted so it measures the API,
# not the throttle (the limit itself answers 429 in microseconds).
ENVIRONMENT = {
    **{name: value for name, value in BASE_ENV.items() if name != "DJANGO_SETTINGS_MODULE"},
    "SECRET_KEY": SECRET_KEY,
    "SSO_RATE_LIMIT": "100000/s",
}

BOOTSTRAP = f"""
from organizations.functions import create_organization
from projects.models import Project
from rest_framework.authtoken.models import Token
from users.models import User
owner = User.objects.create_user(email="{OWNER[0]}", password="{OWNER[1]}", is_staff=True)
organization = create_organization(title="Bench", created_by=owner, legacy_api_tokens_enabled=True)
owner.active_organization = organization
owner.save()
Token.objects.filter(user=owner).delete()
Token.objects.create(user=owner, key="{OWNER_TOKEN}")
alice = User.objects.create_user(email="{MEMBER[0]}", password="{MEMBER[1]}")
alice.active_organization = organization
alice.save()
organization.add_user(alice)
for number in range(10):
    Project.objects.create(title=f"Project {{number}}", organization=organization, created_by=owner)
"""


def label_studio_directory() -> Path:
    import label_studio

    return Path(label_studio.__file__).resolve().parent


def prepared_database(workdir: Path) -> Path:
    """A migrated database with a staff owner (legacy token), alice and ten projects."""
    data_dir = workdir / "prepared"
    data_dir.mkdir()
    shutil.copyfile(migrated_template(), data_dir / "label_studio.sqlite3")
    made = subprocess.run(
        [sys.executable, "-m", "django", "shell", "-c", BOOTSTRAP],
        env=_environment("sso", data_dir),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if made.returncode != 0:
        raise RuntimeError(f"preparing the database failed:\n{made.stderr[-3000:]}")
    return data_dir / "label_studio.sqlite3"


def _environment(kind: str, data_dir: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        **ENVIRONMENT,
        "DJANGO_SETTINGS_MODULE": SETTINGS[kind],
        "LABEL_STUDIO_BASE_DATA_DIR": str(data_dir),
        **extra,
    }


class Server:
    """One gunicorn master with its workers, on its own copy of the database."""

    def __init__(
        self,
        name: str,
        kind: str,
        database: Path,
        workdir: Path,
        workers: int,
        env: dict[str, str] | None = None,
    ) -> None:
        self.name = name
        self.kind = kind
        self.env = dict(env or {})
        self.data_dir = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=workdir))
        shutil.copyfile(database, self.data_dir / "label_studio.sqlite3")
        self.database = self.data_dir / "label_studio.sqlite3"
        self.workers = workers
        self.port = free_port()
        self.log = workdir / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [sys.executable, str(REPO / "docker" / "serve.py")]
        env = _environment(
            self.kind,
            self.data_dir,
            PORT=str(self.port),
            LISTEN_ADDRESS="127.0.0.1",
            WEB_CONCURRENCY=str(self.workers),
            # Label Studio's own settings import ``core`` from its package directory, which
            # its ``label-studio`` command puts on the path; the overlay does that itself. This
            # checkout comes next, so that inside the image (--in-image) its code is measured,
            # then whatever the path held (the image's own: gunicorn).
            PYTHONPATH=os.pathsep.join(
                filter(None, (str(label_studio_directory()), str(REPO), os.environ.get("PYTHONPATH")))
            ),
            **self.env,
        )
        self.process = subprocess.Popen(
            command, env=env, cwd=REPO, stdout=self.log.open("ab"), stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited; see {self.log}")
            try:
                if all(request(self.port, "GET", "/health").status == 200 for _ in range(self.workers * 2)):
                    return
            except OSError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"{self.name} not healthy after 180 s; see {self.log}")

    def stop(self) -> None:
        if self.process:
            stop_process_group(self.process, grace=30)

    def worker_rss_bytes(self) -> list[int]:
        """Resident set size of each gunicorn worker (the master's children)."""
        assert self.process is not None
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        return [_rss_bytes(int(pid)) for pid in children]


def _rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for process {pid}")
