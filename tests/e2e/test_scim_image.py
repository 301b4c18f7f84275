"""SCIM 2.0 against the running image: an independent conformance checker, hostile requests, a browser.

``scim2-tester`` (from PyPI, by the python-scim project) discovers the service from its
``/ServiceProviderConfig``, ``/ResourceTypes`` and ``/Schemas`` and runs every check it has
against them: create, read, list, filter, attribute selection, search, replace, PATCH add /
replace / remove on each published attribute, delete, discovery and unknown URLs. Each
result is written to ``test-output/e2e/scim-conformance.md``. Every check must pass, except
the ones listed in NOT_APPLICABLE, each with the reason the manual (docs/scim.md) gives.
"""

from __future__ import annotations

import contextlib
import re
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.e2e.support.containers import ADMIN_TOKEN, LabelStudio
from tests.support.repository import REPO
from tests.support.scim import (
    CONTENT_TYPE,
    ERROR,
    NOT_APPLICABLE,
    PASSING,
    TOKEN,
    conformance,
    failing,
    okta_user,
    patch,
)

pytestmark = pytest.mark.e2e

REPORT = REPO / "test-output" / "e2e" / "scim-conformance.md"


@pytest.fixture(scope="module")
def label_studio(start_label_studio: Any) -> Iterator[LabelStudio]:
    yield start_label_studio(
        {"SSO_SCIM_TOKEN": TOKEN, "SSO_CREATE_USERS": "true", "SSO_STAFF_GROUPS": "ls-admins"}
    )


def scim(server: LabelStudio, method: str, path: str, body: Any = None, token: str | None = TOKEN) -> Any:
    headers = {"Content-Type": CONTENT_TYPE, **({"Authorization": f"Bearer {token}"} if token else {})}
    return requests.request(method, f"{server.url}/scim/v2/{path}", json=body, headers=headers, timeout=60)


def test_every_check_of_the_independent_scim_conformance_checker_passes(label_studio: LabelStudio) -> None:
    rows = conformance(f"{label_studio.url}/scim/v2")

    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(
        "| check | status | reason |\n|---|---|---|\n"
        + "".join(f"| {title} | {status} | {reason.replace('|', '/')} |\n" for title, status, reason in rows)
    )
    assert failing(rows) == []
    assert len(rows) >= 60  # the checker ran its whole suite against Users and Groups
    assert sum(1 for _title, status, _reason in rows if status not in PASSING) == len(NOT_APPLICABLE)


def test_hostile_requests_to_the_image_are_scim_errors_and_change_nothing(label_studio: LabelStudio) -> None:
    created = scim(label_studio, "post", "Users", okta_user("hostile-target@example.com"))
    assert created.status_code == 201, created.text
    target = created.json()["id"]
    deactivate = patch({"op": "replace", "value": {"active": False}})

    answers = [
        scim(label_studio, "patch", f"Users/{target}", deactivate, token=None),
        scim(label_studio, "patch", f"Users/{target}", deactivate, token=TOKEN[:-1] + "x"),
        scim(label_studio, "get", "Users?filter=" + requests.utils.quote('userName eq "x" or 1=1 --')),
        scim(label_studio, "get", "Users/1%20OR%201=1"),
    ]

    assert [answer.status_code for answer in answers] == [401, 401, 400, 404]
    assert all(answer.json()["schemas"] == [ERROR] for answer in answers)
    assert scim(label_studio, "get", f"Users/{target}").json()["active"] is True


def test_a_10_mb_body_gets_413_before_it_is_sent(label_studio: LabelStudio) -> None:
    head = (
        f"POST /scim/v2/Users HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n"
        f"Content-Type: {CONTENT_TYPE}\r\nContent-Length: {10 * 1024 * 1024}\r\n\r\n"
    ).encode()
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", label_studio.port), timeout=10) as connection:
        connection.sendall(head + b'{"userName": "')
        answer = b""
        with contextlib.suppress(TimeoutError, ConnectionResetError):
            while chunk := connection.recv(65536):  # until the server closes: it does not wait for the body
                answer += chunk

    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert ERROR.encode() in answer
    assert time.monotonic() - started < 5


def test_a_user_deactivated_by_scim_is_logged_out_of_an_open_tab_on_its_next_request(
    page: Any, label_studio: LabelStudio
) -> None:
    created = scim(label_studio, "post", "Users", okta_user("tab-user@example.com", "Tab", "User"))
    assert created.status_code == 201, created.text
    login = requests.post(
        f"{label_studio.url}/api/sso/token",
        json={"email": "tab-user@example.com"},
        headers={"Authorization": f"Token {ADMIN_TOKEN}"},
        timeout=30,
    ).json()["login_url"]
    page.goto(login.replace("127.0.0.1", "ls.example.test"))
    page.wait_for_url(lambda url: "token=" not in url and "/user/login" not in url, timeout=60000)
    page.get_by_text("Create Project").first.wait_for(timeout=60000)  # Label Studio's home, signed in
    assert (
        page.evaluate("fetch('/api/current-user/whoami').then(r => r.json())")["email"]
        == "tab-user@example.com"
    )

    deactivated = scim(
        label_studio,
        "patch",
        f"Users/{created.json()['id']}",
        patch({"op": "Replace", "path": "active", "value": "False"}),
    )
    assert deactivated.json()["active"] is False

    page.reload()
    page.wait_for_url(re.compile(r"/user/login"), timeout=60000)
    assert page.evaluate("fetch('/api/current-user/whoami').then(r => r.status)") == 401
