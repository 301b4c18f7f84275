"""Twelve first logins of one new person at once, through a real gunicorn on SQLite: one user,
and all twelve requests logged in as that user (none told the database is unavailable).

The server runs two threaded workers, so the requests race in separate processes and
threads, as in the image. Each way in that creates users is raced: the token API with
``create``, gateway headers, portal-signed tokens and OpenID Connect.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests

from settings_overlay.label_studio_import import label_studio_directory
from tests.support.first_login_races import (
    GATEWAY_ADDRESS,
    PORTAL_AUDIENCE,
    PORTAL_ISSUER,
    RACE,
    by_gateway,
    by_oidc_callback,
    by_portal_token,
    oidc_callback,
    portal_token,
    raced,
    spelled,
)
from tests.support.oidc import CLIENT_ID, CLIENT_SECRET, SigningKey, running_provider
from tests.support.processes import free_port
from tests.support.repository import REPO
from tests.support.servers import ADMIN_TOKEN, Server, data_dir_with, environment, healthy

pytestmark = pytest.mark.servers


@pytest.fixture(scope="module")
def portal_key() -> SigningKey:
    return SigningKey.generate()


@pytest.fixture(scope="module")
def port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def provider(tmp_path_factory: Any, port: int) -> Iterator[Any]:
    with running_provider(
        tmp_path_factory.mktemp("race-provider"),
        redirect_uris=[f"http://127.0.0.1:{port}/sso/oidc/callback/"],
    ) as running:
        yield running


@pytest.fixture(scope="module")
def server(
    bootstrapped_database: Path, tmp_path_factory: Any, port: int, portal_key: SigningKey, provider: Any
) -> Iterator[Server]:
    tmp_path = tmp_path_factory.mktemp("race-server")
    data_dir = data_dir_with(bootstrapped_database, tmp_path)
    env = environment(
        data_dir,
        PORT=str(port),
        WEB_CONCURRENCY="2",
        GUNICORN_THREADS=str(RACE),
        SSO_CREATE_USERS="true",
        SSO_RATE_LIMIT="100000/m",
        SSO_TRUSTED_PROXIES=f"{GATEWAY_ADDRESS}/32",
        SSO_PROXY_EMAIL_HEADER="X-Forwarded-Email",
        SSO_ISSUER_PUBLIC_KEYS=json.dumps({"keys": [portal_key.public_jwk()]}),
        SSO_ISSUER=PORTAL_ISSUER,
        SSO_ISSUER_AUDIENCE=PORTAL_AUDIENCE,
        SSO_OIDC_ISSUER=provider.issuer,
        SSO_OIDC_CLIENT_ID=CLIENT_ID,
        SSO_OIDC_CLIENT_SECRET=CLIENT_SECRET,
        REQUESTS_CA_BUNDLE=str(provider.ca_file),
    )
    command = [
        os.fspath(Path(os.sys.executable)),
        "-m",
        "gunicorn",
        "--config",
        str(REPO / "docker" / "gunicorn.conf.py"),
        "--chdir",
        label_studio_directory(),
        "core.wsgi:application",
    ]
    running = Server("gunicorn", command, data_dir, port, tmp_path / "server.log", REPO, env=env)
    with healthy(running):
        running.database = data_dir / "label_studio.sqlite3"  # type: ignore[attr-defined]
        yield running


def users_named(server: Server, email: str) -> list[tuple[int, str]]:
    with sqlite3.connect(server.database) as database:  # type: ignore[attr-defined]
        return database.execute("SELECT id, email FROM htx_user WHERE lower(email) = ?", (email,)).fetchall()


def assert_one_user_for_all(server: Server, email: str, outcomes: list[str]) -> None:
    """Every attempt was answered as the one user made (a refusal is not an email)."""
    rows = users_named(server, email)
    assert len(rows) == 1, rows
    assert outcomes == [rows[0][1]] * RACE


def test_twelve_first_logins_through_the_token_api_make_one_user_and_twelve_tokens(server: Server) -> None:
    email = "race-token@example.com"

    def attempt(index: int) -> str:
        response = requests.post(
            f"{server.url}/api/sso/token",
            json={"email": spelled(email, index), "create": True},
            headers={"Authorization": f"Token {ADMIN_TOKEN}"},
            timeout=60,
        )
        if response.status_code != 200:
            return f"{response.status_code} {response.text}"
        return str(jwt.decode(response.json()["token"], options={"verify_signature": False})["email"])

    assert_one_user_for_all(server, email, raced(attempt))


def test_twelve_first_requests_through_a_gateway_are_all_the_one_new_user(server: Server) -> None:
    email = "race-gateway@example.com"
    outcomes = raced(lambda index: by_gateway(server.url, spelled(email, index)))
    assert_one_user_for_all(server, email, outcomes)


def test_twelve_portal_signed_first_logins_are_all_the_one_new_user(
    server: Server, portal_key: SigningKey
) -> None:
    email = "race-portal@example.com"
    tokens = [portal_token(portal_key, spelled(email, index)) for index in range(RACE)]
    outcomes = raced(lambda index: by_portal_token(server.url, tokens[index]))
    assert_one_user_for_all(server, email, outcomes)


def test_twelve_openid_connect_callbacks_of_one_new_person_are_all_that_one_user(
    server: Server, provider: Any
) -> None:
    email = "erin@example.com"  # the provider's account, new to Label Studio
    signed_in = [oidc_callback(server.url, provider) for _ in range(RACE)]  # each signs in first
    outcomes = raced(lambda index: by_oidc_callback(server.url, *signed_in[index]))  # then they race
    assert_one_user_for_all(server, email, outcomes)
