"""Abuse against the running image: rate limit across workers, big and slow bodies,
cross-origin writes, and the headers of every response that carries or consumes a token."""

from __future__ import annotations

import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from tests.e2e.support.containers import ADMIN_TOKEN, USERS_SCRIPT, LabelStudio

pytestmark = pytest.mark.e2e

WORKERS = 4
LIMIT = 5
TIMEOUT = 10


@pytest.fixture(scope="module")
def label_studio(start_label_studio: Any) -> Iterator[LabelStudio]:
    server = start_label_studio(
        {"WEB_CONCURRENCY": str(WORKERS), "SSO_RATE_LIMIT": f"{LIMIT}/m", "GUNICORN_TIMEOUT": str(TIMEOUT)}
    )
    server.exec_python(USERS_SCRIPT)
    yield server


def raw_request(server: LabelStudio, head: bytes, body: bytes = b"", wait: float = 10) -> bytes:
    """Send bytes on one connection and read what comes back within ``wait`` seconds."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=wait) as connection:
        connection.sendall(head + body)
        answer = b""
        try:
            while chunk := connection.recv(65536):
                answer += chunk
        except (TimeoutError, ConnectionResetError):
            pass
        return answer


def served_by(server: LabelStudio, status: int) -> Counter[str]:
    """How many token-API answers with ``status`` each worker (by pid, from the access log) gave."""
    return Counter(
        line.split("worker=")[1].split()[0]
        for line in server.logs().splitlines()
        if '"POST /api/sso/token' in line and f'" {status} ' in line and "worker=" in line
    )


def test_the_rate_limit_holds_across_every_gunicorn_worker(label_studio: LabelStudio) -> None:
    """A worker that accepted fewer than the limit refuses once the workers together reached it.

    With a limit per worker, a worker that had accepted fewer than ``LIMIT`` would accept
    again. Requests sent at once, each on its own connection, are spread over the workers.
    """
    assert [label_studio.issue("alice@example.com").status_code for _ in range(LIMIT)] == [200] * LIMIT
    accepted = served_by(label_studio, 200)
    for _attempt in range(12):
        with ThreadPoolExecutor(max_workers=2 * WORKERS) as pool:
            statuses = list(
                pool.map(lambda _: label_studio.issue("alice@example.com").status_code, range(2 * WORKERS))
            )
        assert statuses == [429] * (2 * WORKERS)
        if any(accepted[worker] < LIMIT for worker in served_by(label_studio, 429)):
            return
    pytest.fail(f"every refusal came from the one worker that accepted all {LIMIT}: {dict(accepted)}")


def test_an_oversized_body_gets_413_without_being_sent(label_studio: LabelStudio) -> None:
    declared = 50 * 1024 * 1024
    head = (
        f"POST /api/sso/token HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Token {ADMIN_TOKEN}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {declared}\r\n\r\n"
    ).encode()
    started = time.monotonic()
    answer = raw_request(label_studio, head, b'{"email": "', wait=10)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b'"error_code": "PAYLOAD_TOO_LARGE"' in answer or b'"error_code":"PAYLOAD_TOO_LARGE"' in answer
    assert time.monotonic() - started < 5  # answered at once, not after waiting for 50 MiB


def test_idle_connections_hold_no_worker(label_studio: LabelStudio) -> None:
    """A browser opens connections it may never use (preconnects); a load balancer keeps some.

    gunicorn's sync workers each waited on such a connection until it closed: two took the
    image's default two workers, and the server stopped answering.
    """
    idle = [socket.create_connection(("127.0.0.1", label_studio.port)) for _ in range(4 * WORKERS)]
    try:
        assert requests.get(f"{label_studio.url}/health", timeout=3 * TIMEOUT).status_code == 200
    finally:
        for connection in idle:
            connection.close()


def test_a_slow_client_holds_one_thread_and_the_others_keep_serving(label_studio: LabelStudio) -> None:
    """Each client that never finishes its body holds one thread until it disconnects."""
    slow = [socket.create_connection(("127.0.0.1", label_studio.port)) for _ in range(WORKERS)]
    try:
        for connection in slow:
            connection.sendall(b"POST /api/sso/token HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
        assert requests.get(f"{label_studio.url}/health", timeout=TIMEOUT).status_code == 200
    finally:
        for connection in slow:
            connection.close()


def project_titles(server: LabelStudio) -> list[str]:
    response = requests.get(
        f"{server.url}/api/projects/", headers={"Authorization": f"Token {ADMIN_TOKEN}"}, timeout=30
    )
    return sorted(project["title"] for project in response.json()["results"])


def test_foreign_origin_writes_are_refused_and_label_studios_own_calls_work(
    label_studio: LabelStudio,
) -> None:
    browser = _admin_session(label_studio)
    before = project_titles(label_studio)
    foreign = [
        browser.post(f"{label_studio.url}/api/projects/", json={"title": "evil"}, headers=headers, timeout=30)
        for headers in (
            {"Origin": "https://evil.test"},
            {"Referer": "https://evil.test/page"},
            {"Origin": "null"},
        )
    ]
    assert [response.status_code for response in foreign] == [403, 403, 403]
    assert all(response.json()["error_code"] == "CROSS_ORIGIN_REFUSED" for response in foreign)
    assert project_titles(label_studio) == before
    # Label Studio's UI: same-origin fetches with the session and no CSRF token.
    own = {"Origin": label_studio.url, "Referer": f"{label_studio.url}/projects/"}
    created = browser.post(
        f"{label_studio.url}/api/projects/", json={"title": "ours"}, headers=own, timeout=30
    )
    assert created.status_code == 201, created.text
    project = created.json()["id"]
    refused = browser.patch(
        f"{label_studio.url}/api/projects/{project}/",
        json={"title": "evil"},
        headers={"Origin": "https://evil.test"},
        timeout=30,
    )
    assert refused.status_code == 403
    edited = browser.patch(
        f"{label_studio.url}/api/projects/{project}/", json={"title": "ours, edited"}, headers=own, timeout=30
    )
    assert edited.status_code == 200, edited.text
    assert "ours, edited" in project_titles(label_studio) and "evil" not in project_titles(label_studio)


def _admin_session(server: LabelStudio) -> requests.Session:
    """The admin logged in through Label Studio's own form (the token API is rate limited here)."""
    browser = requests.Session()
    browser.get(f"{server.url}/user/login/", timeout=30)
    response = browser.post(
        f"{server.url}/user/login/",
        data={
            "email": "admin@example.com",
            "password": "Admin-password-123",
            "csrfmiddlewaretoken": browser.cookies["csrftoken"],
        },
        headers={"Referer": f"{server.url}/user/login/"},
        timeout=30,
    )
    assert response.ok
    return browser


@pytest.fixture
def generous(start_label_studio: Any) -> LabelStudio:
    server = start_label_studio({"SSO_RATE_LIMIT": "1000/m"})
    server.exec_python(USERS_SCRIPT)
    return server


def test_every_response_carrying_or_consuming_a_token_is_no_store_no_referrer(generous: LabelStudio) -> None:
    def token() -> str:
        return generous.issue("alice@example.com").json()["token"]

    responses = {
        "token API": generous.issue("alice@example.com"),
        "token API error": generous.issue("nobody@example.com"),
        "login view": requests.get(
            f"{generous.url}/api/sso/login", params={"token": token()}, allow_redirects=False, timeout=30
        ),
        "login view, refused": requests.get(
            f"{generous.url}/api/sso/login", params={"token": "x.y.z"}, allow_redirects=False, timeout=30
        ),
        "URL token": requests.get(
            f"{generous.url}/projects/", params={"token": token()}, allow_redirects=False, timeout=30
        ),
        "cookie token": requests.get(
            f"{generous.url}/projects/", cookies={"ls_auth_token": token()}, allow_redirects=False, timeout=30
        ),
        "cookie token, refused": requests.get(
            f"{generous.url}/projects/", cookies={"ls_auth_token": "x.y.z"}, allow_redirects=False, timeout=30
        ),
    }
    for name, response in responses.items():
        assert response.headers.get("Cache-Control") == "no-store", name
        assert response.headers.get("Referrer-Policy") == "no-referrer", name


def test_parallel_logins_with_one_token_do_not_break_the_server(generous: LabelStudio) -> None:
    token = generous.issue("alice@example.com").json()["token"]
    results: list[int] = []

    def redeem() -> None:
        results.append(
            requests.get(
                f"{generous.url}/api/sso/login", params={"token": token}, allow_redirects=False, timeout=60
            ).status_code
        )

    threads = [threading.Thread(target=redeem) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(set(results)) == [302]
