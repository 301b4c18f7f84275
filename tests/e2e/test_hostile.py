"""The hostile-token corpus against the running image, by cookie, URL and /api/sso/login.

For every token and transport, with bob's session and without one: the answer is not a
5xx, it logs no one in and switches no session. A token signed with the instance's key
but refused (for alice: expired, wrong audience, ...) ends bob's session, by design; one
that is not may never end it. The result table goes to test-output/e2e/hostile-tokens.md;
the container's log is scanned for tokens as always.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests

from tests.e2e.support.containers import ADMIN_TOKEN, USERS_SCRIPT, LabelStudio, user_id_of, whoami
from tests.support.hostile_tokens import corpus, keys_for, signed_with

pytestmark = pytest.mark.e2e

SECRET_KEY = "hostile-tokens-e2e-secret-key-0123456789abcdef0123"
OUTPUT = Path(__file__).resolve().parents[2] / "test-output" / "e2e"
TRANSPORTS = ("cookie", "url", "login view")


@pytest.fixture(scope="module")
def label_studio(start_label_studio: Any) -> Iterator[LabelStudio]:
    # bob logs in again after each authentic token that ended his session: no rate limit here
    server = start_label_studio({"SECRET_KEY": SECRET_KEY, "SSO_RATE_LIMIT": "100000/m"})
    server.exec_python(USERS_SCRIPT)
    yield server


def label_studio_tokens(server: LabelStudio) -> dict[str, str]:
    """A Personal Access Token's access and refresh tokens, and a refresh token it revoked."""
    legacy = {"Authorization": f"Token {ADMIN_TOKEN}"}
    revoked = requests.post(f"{server.url}/api/token/", headers=legacy, timeout=30).json()["token"]
    access = requests.post(f"{server.url}/api/token/refresh/", json={"refresh": revoked}, timeout=30).json()
    rotated = requests.post(
        f"{server.url}/api/token/rotate/", json={"refresh": revoked}, headers=legacy, timeout=30
    )
    assert rotated.status_code == 200, rotated.text
    refused = requests.post(f"{server.url}/api/token/refresh/", json={"refresh": revoked}, timeout=30)
    assert refused.status_code == 401  # Label Studio itself no longer takes the old one
    return {
        "Label Studio access token": access["access"],
        "Label Studio refresh token": rotated.json()["refresh"],
        "Label Studio refresh token (revoked)": revoked,
    }


def bob_session(server: LabelStudio) -> requests.Session:
    token = server.issue("bob@example.com").json()["token"]
    browser = requests.Session()
    browser.get(f"{server.url}/api/sso/login", params={"token": token}, timeout=30)
    assert whoami(server, browser) == "bob@example.com"
    return browser


def send(server: LabelStudio, browser: requests.Session, transport: str, token: str) -> requests.Response:
    if transport == "url":
        return browser.get(
            f"{server.url}/projects/", params={"token": token}, allow_redirects=False, timeout=30
        )
    if transport == "login view":
        return browser.get(
            f"{server.url}/api/sso/login", params={"token": token}, allow_redirects=False, timeout=30
        )
    # A cookie header cannot carry control or non-ASCII characters: those go percent-encoded.
    value = token if token.isascii() and token.isprintable() and " " not in token else quote(token)
    cookies = "; ".join(f"{name}={morsel}" for name, morsel in browser.cookies.items())
    header = f"{cookies}; ls_auth_token={value}" if cookies else f"ls_auth_token={value}"
    return requests.get(
        f"{server.url}/projects/", headers={"Cookie": header}, allow_redirects=False, timeout=30
    )


def test_no_hostile_token_is_accepted_answers_5xx_or_switches_a_session(label_studio: LabelStudio) -> None:
    alice_id = user_id_of(label_studio, "alice@example.com")
    keys = keys_for(SECRET_KEY)
    tokens = {**corpus(keys, alice_id, "alice@example.com"), **label_studio_tokens(label_studio)}
    assert len(tokens) >= 60
    rows, totals = [], Counter()
    bob = bob_session(label_studio)
    for name, token in tokens.items():
        for transport in TRANSPORTS:
            for who in ("bob", "anonymous"):
                browser = bob if who == "bob" else requests.Session()
                before = whoami(label_studio, browser)
                response = send(label_studio, browser, transport, token)
                reason = response.headers.get("X-Label-Studio-SSO", "-")
                after = whoami(label_studio, browser)
                accepted = reason in ("logged-in", "already-logged-in")
                switched = after not in (before, None)
                ended = before is not None and after is None
                totals.update(
                    sent=1,
                    accepted=accepted,
                    server_error=response.status_code >= 500,
                    switched=switched,
                    ended=ended,
                    ended_by_unsigned=ended and not signed_with(token, keys.secret),
                )
                rows.append((name, transport, who, response.status_code, reason, accepted, switched, ended))
                if ended:
                    bob = bob_session(label_studio)
    _write_table(rows, totals, len(tokens))
    failures = (totals["accepted"], totals["server_error"], totals["switched"], totals["ended_by_unsigned"])
    assert failures == (0, 0, 0, 0), json.dumps([row for row in rows if row[5] or row[6] or row[3] >= 500])
    assert totals["sent"] == len(tokens) * len(TRANSPORTS) * 2
    assert totals["ended"] > 0  # the corpus holds authentic tokens for alice: bob's session ended


def _write_table(rows: list[tuple[Any, ...]], totals: Counter, tokens: int) -> None:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    lines = [
        f"# Hostile tokens against the image: {tokens} tokens, {len(TRANSPORTS)} transports, 2 sessions each",
        "",
        f"sent {totals['sent']}, accepted {totals['accepted']}, 5xx {totals['server_error']}, "
        f"session switched {totals['switched']}, session ended {totals['ended']} "
        f"(by a token not signed with the instance's key: {totals['ended_by_unsigned']})",
        "",
        "| token | transport | session | status | X-Label-Studio-SSO | accepted | switched | ended |",
        "|---|---|---|---|---|---|---|---|",
    ]
    lines += [f"| {' | '.join(str(cell) for cell in row)} |" for row in rows]
    (OUTPUT / "hostile-tokens.md").write_text("\n".join(lines) + "\n")
