"""End-to-end fixtures: the image built once per run, and containers started from it."""

from __future__ import annotations

import contextlib
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator

import pytest
from e2e_support import ADMIN_EMAIL, ADMIN_PASSWORD, ADMIN_TOKEN, IMAGE_TAG, LabelStudio, sqlite_data_dir
from sso_support import REPO

OUTPUT = REPO / "test-output" / "e2e"  # every container's log, kept for inspection after a run
JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}")


@pytest.fixture(scope="session")
def sso_image() -> str:
    """The image under test, built from this checkout (fails loudly without Docker)."""
    if subprocess.run(["docker", "info"], capture_output=True).returncode != 0:
        pytest.fail("Docker is not running: the end-to-end tests need it (.ci/run starts dockerd)")
    built = subprocess.run(
        [str(REPO / "docker" / "build-image"), IMAGE_TAG], capture_output=True, text=True, timeout=1500
    )
    assert built.returncode == 0, built.stderr[-4000:]
    return built.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="session")
def start_label_studio(sso_image: str) -> Iterator[Callable[..., LabelStudio]]:
    """Start containers of the image; all are stopped, and their data removed, at the end."""
    started: list[LabelStudio] = []

    def start(
        env: dict[str, str] | None = None, *, sqlite: bool = True, wait: bool = True, port: int | None = None
    ) -> LabelStudio:
        admin = {
            "LABEL_STUDIO_USERNAME": ADMIN_EMAIL,
            "LABEL_STUDIO_PASSWORD": ADMIN_PASSWORD,
            "LABEL_STUDIO_USER_TOKEN": ADMIN_TOKEN,
            "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",
        }
        server = LabelStudio(sso_image, {**admin, **(env or {})}, sqlite_data_dir() if sqlite else None, port)
        started.append(server)
        if wait:
            server.start()
        else:
            server.container.start()
        return server

    yield start
    leaks = []
    OUTPUT.mkdir(parents=True, exist_ok=True)
    for index, server in enumerate(started):
        with contextlib.suppress(Exception):  # a container that never started has no logs
            logs = server.logs()
            (OUTPUT / f"container-{index}-port-{server.port}.log").write_text(logs)
            leaks += [f"container on port {server.port}" for _ in JWT.findall(logs)]
        with contextlib.suppress(Exception):  # already stopped by the test
            server.stop()
        if server.data_dir is not None:
            shutil.rmtree(server.data_dir, ignore_errors=True)
    assert leaks == [], f"JWT-shaped strings in container logs (see {OUTPUT})"
