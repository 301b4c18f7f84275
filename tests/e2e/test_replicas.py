"""Two replicas on one PostgreSQL: a token is redeemed once, sessions work on both."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from e2e_support import LabelStudio, assert_no_token_in

pytestmark = pytest.mark.e2e

SHARED_SECRET = "a-secret-key-shared-by-both-replicas-0123456789abcdef"


@pytest.fixture(scope="module")
def replicas(start_label_studio: Any, postgres: Any) -> Iterator[tuple[LabelStudio, LabelStudio]]:
    """Two containers started at the same moment on one fresh PostgreSQL database."""
    env = {**postgres.environment(), "SECRET_KEY": SHARED_SECRET, "DB_WAIT_TIMEOUT": "30"}
    first = start_label_studio(env, sqlite=False, wait=False)
    second = start_label_studio(env, sqlite=False, wait=False)
    first.wait_until_healthy(timeout=600)  # the first start migrates PostgreSQL from scratch
    second.wait_until_healthy(timeout=600)
    first.tokens, second.tokens = [], []
    yield first, second
    for server in (first, second):
        assert_no_token_in(server.logs(), first.tokens)


def test_both_replicas_migrated_one_at_a_time(replicas: tuple[LabelStudio, LabelStudio]) -> None:
    logs = [server.logs() for server in replicas]
    assert all("migrating PostgreSQL, one replica at a time" in text for text in logs)
    assert all("Starting gunicorn" in text for text in logs)


def test_a_token_sent_to_both_replicas_at_once_logs_in_exactly_once(
    replicas: tuple[LabelStudio, LabelStudio],
) -> None:
    first = replicas[0]
    response = first.issue("admin@example.com")
    assert response.status_code == 200, response.text
    token = response.json()["token"]
    first.tokens.append(token)
    outcomes: list[str] = []
    start = threading.Barrier(8)

    def redeem(server: LabelStudio) -> None:
        start.wait()
        answer = requests.get(f"{server.url}/api/sso/login?token={token}", allow_redirects=False, timeout=60)
        outcomes.append(answer.headers["X-Label-Studio-SSO"])

    threads = [threading.Thread(target=redeem, args=(replicas[index % 2],)) for index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["logged-in"] + ["replayed"] * 7


def test_a_session_from_one_replica_works_on_the_other(replicas: tuple[LabelStudio, LabelStudio]) -> None:
    first, second = replicas
    body = second.issue("admin@example.com").json()
    first.tokens.append(body["token"])
    browser = requests.Session()
    browser.get(f"{first.url}/api/sso/login?token={body['token']}", allow_redirects=False, timeout=30)

    on_second = browser.get(f"{second.url}/api/current-user/whoami", timeout=30)

    assert on_second.status_code == 200
    assert on_second.json()["email"] == "admin@example.com"
