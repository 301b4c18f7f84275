"""Real Chromium for the end-to-end tests: how it is started, where its screenshots go, and
how a test labels a task in Label Studio's own editor and waits for the annotation."""

from __future__ import annotations

import re
import time
from typing import Any

import requests

from tests.e2e.support.containers import ADMIN_TOKEN, LabelStudio
from tests.support.repository import REPO

SHOTS = REPO / "test-output" / "browser"
BROWSER_HOSTS = "MAP *.example.test 127.0.0.1, MAP *.othersite.test 127.0.0.1, MAP *.evil.test 127.0.0.1"
BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    f"--host-resolver-rules={BROWSER_HOSTS}",
    "--ignore-certificate-errors",  # the tests' own throw-away certificate
]


LABEL_CONFIG = """<View><Text name="text" value="$text"/><Choices name="sentiment" toName="text">
<Choice value="Positive"/><Choice value="Negative"/></Choices></View>"""


def admin_api(server: LabelStudio, method: str, path: str, **kwargs: Any) -> Any:
    response = requests.request(
        method, f"{server.url}{path}", headers={"Authorization": f"Token {ADMIN_TOKEN}"}, timeout=60, **kwargs
    )
    assert response.status_code < 300, response.text
    return response.json()


def demo_task(server: LabelStudio, text: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The demo project, given a labeling config and a new task with ``text``: (project, task)."""
    projects = admin_api(server, "GET", "/api/projects/?page_size=100")["results"]
    project = next(item for item in projects if item["title"] == "Demo project")
    admin_api(server, "PATCH", f"/api/projects/{project['id']}/", json={"label_config": LABEL_CONFIG})
    admin_api(server, "POST", f"/api/projects/{project['id']}/import", json=[{"text": text}])
    return project, admin_api(server, "GET", f"/api/tasks/?project={project['id']}")["tasks"][-1]


def submit_positive(frame: Any, server: LabelStudio, task_id: int) -> list[dict[str, Any]]:
    """Label the open task Positive, submit, and wait until Label Studio has the annotation."""
    frame.get_by_text(re.compile(r"^Positive")).first.click(timeout=60000)
    frame.get_by_role("button", name="Submit").click()
    deadline = time.monotonic() + 30
    while not (annotations := admin_api(server, "GET", f"/api/tasks/{task_id}/annotations/")):
        assert time.monotonic() < deadline, "the annotation never arrived"
        time.sleep(0.5)
    return annotations


def page_whoami(page: Any) -> Any:
    """Who Label Studio says the page's session is (None when anonymous)."""
    return page.evaluate("fetch('/api/current-user/whoami').then(r => r.ok ? r.json() : null)")


def sign_in_at_the_idp_page(page: Any, login: str, password: str) -> None:
    """Fill the test identity providers' sign-in page (both label their fields alike)."""
    page.get_by_label("Username").fill(login)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
