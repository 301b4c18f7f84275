"""End-to-end fixtures: the image built once per run, and containers started from it."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.e2e.support.browser import BROWSER_ARGS, SHOTS
from tests.e2e.support.containers import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    ADMIN_TOKEN,
    CHROMIUM,
    IMAGE_TAG,
    LabelStudio,
    sqlite_data_dir,
)
from tests.support.repository import REPO

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
        env: dict[str, str] | None = None,
        *,
        sqlite: bool = True,
        wait: bool = True,
        port: int | None = None,
        volumes: dict[str, str] | None = None,
        scheme: str = "http",
        first_user: bool = True,
    ) -> LabelStudio:
        """``first_user=False``: no LABEL_STUDIO_USERNAME, so Label Studio starts empty (no user,
        no organization), as a fresh image configured with only a way in does."""
        admin = {
            "LABEL_STUDIO_USERNAME": ADMIN_EMAIL,
            "LABEL_STUDIO_PASSWORD": ADMIN_PASSWORD,
            "LABEL_STUDIO_USER_TOKEN": ADMIN_TOKEN,
            "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",
        }
        if not first_user:
            admin = {}
        data_dir = sqlite_data_dir() if sqlite else None
        server = LabelStudio(sso_image, {**admin, **(env or {})}, data_dir, port, volumes, scheme)
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


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: the browser tests need Debian's chromium (.ci/run installs it)")

    # Playwright's sync API runs an event loop; the in-process Django fixtures then think they
    # are in async code. Nothing here touches the database concurrently.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=BROWSER_ARGS)
        yield chromium
        chromium.close()
    del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


@pytest.fixture
def page(browser: Any, request: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    tab = context.new_page()
    yield tab
    SHOTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(SHOTS / f"{request.node.name}.png"))
    context.close()
