"""Each figure of the benchmark: what is timed, against which baseline, and with which goal.

Every scenario returns Figures built from raw samples; nothing here judges timing except
the goal comparison that ends up in the report.
"""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

from .measure import Reply, Summary, concurrently, expect, request, rotated
from .servers import MEMBER, OWNER, OWNER_TOKEN, REDEEMED_TABLE, REPO, Server, _environment

COOKIE_NAME = "ls_auth_token"  # JWT_SSO_COOKIE_NAME's default
TOKEN_PARAM = "token"  # JWT_SSO_TOKEN_PARAM's default
MILLISECONDS = 1000.0


@dataclass
class Figure:
    """One measured comparison: subject against baseline, ratio of medians against a goal."""

    key: str
    title: str
    unit: str
    subject_label: str
    baseline_label: str
    subject: list[float]
    baseline: list[float]
    goal: float
    goal_kind: str = "ratio"  # "ratio": subject/baseline <= goal; "delta": subject-baseline <= goal
    extra: dict[str, float] = field(default_factory=dict)
    per_request_served: bool = False  # samples are ms per request served: report requests/s too

    def as_dict(self) -> dict[str, object]:
        subject, baseline = Summary.of(self.subject), Summary.of(self.baseline)
        if self.per_request_served:  # from the samples, so pooled runs are reported pooled
            self.extra = {
                "subject_requests_per_s": round(MILLISECONDS / subject.median, 1),
                "baseline_requests_per_s": round(MILLISECONDS / baseline.median, 1),
            }
        if self.goal_kind == "ratio":
            measured = subject.median / baseline.median
        else:
            measured = subject.median - baseline.median
        return {
            "key": self.key,
            "title": self.title,
            "unit": self.unit,
            "subject": {"label": self.subject_label, **vars(subject)},
            "baseline": {"label": self.baseline_label, **vars(baseline)},
            "ratio_median": round(subject.median / baseline.median, 4),
            "ratio_p95": round(subject.p95 / baseline.p95, 4),
            "goal": {"kind": self.goal_kind, "limit": self.goal, "measured": round(measured, 4)},
            "met": measured <= self.goal,
            **({"extra": self.extra} if self.extra else {}),
        }


def pooled(halves: list[list[Figure]]) -> list[Figure]:
    """The same figures measured in several runs, their samples put together."""
    first, *rest = halves
    for other in rest:
        for figure, more in zip(first, other, strict=True):
            figure.subject += more.subject
            figure.baseline += more.baseline
    return first


def _ms(run: Callable[[], Reply]) -> Callable[[], float]:
    return lambda: run().seconds * MILLISECONDS


def log_in(server: Server, email: str, password: str) -> str:
    """A session cookie from Label Studio's own login form (CSRF and all)."""
    page = expect(request(server.port, "GET", "/user/login/"), 200, "login page")
    csrf = _cookies(page)["csrftoken"]
    form = f"email={email}&password={password}&csrfmiddlewaretoken={csrf}".encode()
    reply = request(
        server.port,
        "POST",
        "/user/login/",
        {
            "Cookie": f"csrftoken={csrf}",
            "Content-Type": "application/x-www-form-urlencoded",
            "Referer": f"http://127.0.0.1:{server.port}/user/login/",
        },
        form,
    )
    session = _cookies(expect(reply, 302, "password login")).get("sessionid")
    if not session:
        raise RuntimeError("password login set no session")
    return f"sessionid={session}"


def _cookies(reply: Reply) -> dict[str, str]:
    jar = SimpleCookie()
    for header in reply.headers.get_all("Set-Cookie") or []:
        jar.load(header)
    return {name: morsel.value for name, morsel in jar.items() if morsel.value}


def mint_tokens(server: Server, count: int, email: str = MEMBER[0]) -> list[str]:
    """Login tokens for ``email`` from the token API, minted before any timing starts."""
    return [json.loads(_issue(server, email).body)["token"] for _ in range(count)]


def _issue(server: Server, email: str) -> Reply:
    reply = request(
        server.port,
        "POST",
        "/api/sso/token",
        {"Authorization": f"Token {OWNER_TOKEN}", "Content-Type": "application/json"},
        json.dumps({"email": email}).encode(),
    )
    return expect(reply, 200, "token issuance")


def steady_state(sso: Server, vanilla: Server, count: int, warmup: int) -> list[Figure]:
    """Session-authenticated API call and HTML page: is a logged-in user slowed down at all?"""
    figures = []
    cookies = {server.name: log_in(server, *OWNER) for server in (sso, vanilla)}
    for key, path, title, status in (
        ("steady_api_projects", "/api/projects/", "GET /api/projects/ with a session", 200),
        ("steady_html_projects", "/projects/", "GET /projects/ (HTML page) with a session", 200),
    ):

        def get(server: Server, path: str = path, status: int = status) -> Reply:
            return expect(request(server.port, "GET", path, {"Cookie": cookies[server.name]}), status, path)

        for _ in range(warmup):
            get(sso), get(vanilla)
        subject, baseline = rotated(count, _ms(lambda: get(sso)), _ms(lambda: get(vanilla)))
        figures.append(
            Figure(key, title, "ms", "Label Studio + SSO", "vanilla Label Studio", subject, baseline, 1.02)
        )
    figures.append(_steady_throughput(sso, vanilla, cookies, count))
    return figures


def _steady_throughput(sso: Server, vanilla: Server, cookies: dict[str, str], count: int) -> Figure:
    """GET /api/projects/ from 4 clients at once, in alternating blocks: time per request served.

    Each block is one server busy with 4 clients; its sample is the block's wall time per
    request (the inverse of its throughput), so the ratio of medians is vanilla's requests
    per second over ours.
    """
    clients, blocks = 4, 10
    per_client = max(2, count // (clients * 2))
    samples: dict[str, list[float]] = {sso.name: [], vanilla.name: []}
    for block in range(blocks):
        server = (sso, vanilla)[block % 2]

        def one(server: Server = server) -> float:
            path = "/api/projects/"
            return expect(
                request(server.port, "GET", path, {"Cookie": cookies[server.name]}), 200, path
            ).seconds

        _latencies, per_second = concurrently(clients, per_client, one)
        samples[server.name].append(MILLISECONDS / per_second)
    return Figure(
        "steady_api_projects_4_clients",
        "GET /api/projects/ with a session, 4 clients at once (ms per request served)",
        "ms",
        "Label Studio + SSO",
        "vanilla Label Studio",
        samples[sso.name],
        samples[vanilla.name],
        1.02,
        per_request_served=True,
    )


def token_issuance(sso: Server, count: int, clients: int, rounds: int) -> list[Figure]:
    """POST /api/sso/token against a plain authenticated API call with the same credential."""
    authorization = {"Authorization": f"Token {OWNER_TOKEN}"}

    def issue() -> Reply:
        return _issue(sso, MEMBER[0])

    def whoami() -> Reply:
        return expect(request(sso.port, "GET", "/api/current-user/whoami", authorization), 200, "whoami")

    for _ in range(max(10, count // 10)):
        issue(), whoami()
    subject, baseline = rotated(count, _ms(issue), _ms(whoami))
    one = 1000 / Summary.of(subject).median, 1000 / Summary.of(baseline).median
    figures = [_issuance("issuance_1_client", "1 client", subject, baseline, one)]
    per_client = max(1, count // clients)
    subject, baseline, subject_rates, baseline_rates = [], [], [], []
    for _ in range(rounds):
        for run, latencies, rates in ((issue, subject, subject_rates), (whoami, baseline, baseline_rates)):
            sample, rate = concurrently(clients, per_client, _ms(run))
            latencies.extend(sample)
            rates.append(rate)
    mean_rates = sum(subject_rates) / len(subject_rates), sum(baseline_rates) / len(baseline_rates)
    figures.append(
        _issuance(
            f"issuance_{clients}_clients", f"{clients} concurrent clients", subject, baseline, mean_rates
        )
    )
    return figures


def _issuance(
    key: str, clients: str, subject: list[float], baseline: list[float], rates: tuple[float, float]
) -> Figure:
    return Figure(
        key,
        f"POST /api/sso/token, {clients}",
        "ms",
        "POST /api/sso/token",
        "GET /api/current-user/whoami",
        subject,
        baseline,
        1.5,
        extra={"subject_requests_per_s": round(rates[0], 1), "baseline_requests_per_s": round(rates[1], 1)},
    )


def first_request(sso: Server, count: int) -> list[Figure]:
    """A user arriving with a token until the page is on screen, against one with a session.

    The token request logs in and redirects to the same page (cookie) or to the page
    without the token (URL); the timed landing includes that redirect and the page.
    """
    session = log_in(sso, *MEMBER)
    cookie_tokens, url_tokens = mint_tokens(sso, count), mint_tokens(sso, count)

    def land(first: Reply) -> float:
        expect(first, 302, "token login")
        new_session = _cookies(first).get("sessionid")
        if not new_session:
            raise RuntimeError("a token login set no session")
        page = expect(
            request(sso.port, "GET", "/projects/", {"Cookie": f"sessionid={new_session}"}), 200, "landing"
        )
        return (first.seconds + page.seconds) * MILLISECONDS

    def by_cookie() -> float:
        return land(
            request(sso.port, "GET", "/projects/", {"Cookie": f"{COOKIE_NAME}={cookie_tokens.pop()}"})
        )

    def by_url() -> float:
        return land(request(sso.port, "GET", f"/projects/?{TOKEN_PARAM}={url_tokens.pop()}"))

    def with_session() -> float:
        reply = request(sso.port, "GET", "/projects/", {"Cookie": session})
        return expect(reply, 200, "page with a session").seconds * MILLISECONDS

    cookie_times, url_times, session_times = rotated(count, by_cookie, by_url, with_session)
    return [
        Figure("first_request_cookie", "Landing with a token cookie", "ms", "token cookie → session → page",
               "page with a session", cookie_times, session_times, 2.0),
        Figure("first_request_url", "Landing with a token in the URL", "ms", "?token= → session → page",
               "page with a session", url_times, session_times, 2.0),
    ]  # fmt: skip


def fill_redeemed_tokens(database: Path, rows: int, expired: bool) -> None:
    """Insert ``rows`` redeemed-token records straight into the database file."""
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    expires = now + (timedelta(hours=-1) if expired else timedelta(days=1))
    stamp, expiry = now.isoformat(sep=" "), expires.isoformat(sep=" ")
    with sqlite3.connect(database) as connection:
        connection.executemany(
            f"INSERT INTO {REDEEMED_TABLE} (jti, user_id, redeemed_at, expires_at) VALUES (?, ?, ?, ?)",
            ((uuid.uuid4().hex, 2, stamp, expiry) for _ in range(rows)),
        )


def redemption_growth(servers: dict[str, Server], count: int, rows: int) -> list[Figure]:
    """Login with a URL token (the redemption request itself) with 0 rows and with ``rows`` rows."""
    tokens = {name: mint_tokens(server, count) for name, server in servers.items()}

    def redeem(name: str) -> Callable[[], float]:
        def once() -> float:
            reply = request(servers[name].port, "GET", f"/projects/?{TOKEN_PARAM}={tokens[name].pop()}")
            return expect(reply, 302, "redemption").seconds * MILLISECONDS

        return once

    empty, full, expired = rotated(count, redeem("empty"), redeem("full"), redeem("expired"))
    return [
        Figure("redemption_growth", f"Redemption with {rows:,} redeemed-token rows", "ms",
               f"{rows:,} live rows", "0 rows", full, empty, 1.10),
        Figure("redemption_growth_expired",
               f"Redemption with {rows:,} expired rows (each login purges a batch)",
               "ms", f"{rows:,} expired rows", "0 rows", expired, empty, 1.10),
    ]  # fmt: skip


PURGE_SCRIPT = """
import time, django
django.setup()
from label_studio_sso.models import RedeemedToken
from label_studio_sso.portal.redemption import purge_expired
before = RedeemedToken.objects.count()
started = time.perf_counter()
deleted = purge_expired()
print(f"{deleted} {time.perf_counter() - started:.3f} {before}")
"""


def purge_time(database_dir: Path) -> dict[str, float]:
    """Time ``purge_expired()`` (what ``manage.py purge_sso_tokens`` runs) on a full table."""
    output = subprocess.run(
        [sys.executable, "-c", PURGE_SCRIPT],
        env=_environment("sso", database_dir),
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
        timeout=1800,
    ).stdout
    match = re.search(r"^(\d+) ([\d.]+) (\d+)$", output, re.MULTILINE)
    if not match:
        raise RuntimeError(f"purge printed no result: {output[-300:]!r}")
    deleted, seconds = int(match[1]), float(match[2])
    return {"rows_deleted": deleted, "seconds": seconds, "rows_per_second": round(deleted / seconds)}


def memory(sso: Server, vanilla: Server) -> Figure:
    """Resident memory per gunicorn worker after the same steady-state workload."""
    mebibyte = 1024 * 1024
    return Figure(
        "worker_rss",
        "Resident memory per gunicorn worker",
        "MiB",
        "Label Studio + SSO",
        "vanilla Label Studio",
        [value / mebibyte for value in sso.worker_rss_bytes()],
        [value / mebibyte for value in vanilla.worker_rss_bytes()],
        5.0,
        goal_kind="delta",
    )


def oidc_callback(sso: Server, provider: Any, count: int) -> list[Figure]:
    """The OpenID Connect callback (code exchange, ID token with cached keys, userinfo, login)
    against Label Studio's own password login POST, on the same server, interleaved.

    The sign-in at the provider between the button and the callback is the provider's time,
    not Label Studio's: it happens untimed, as does fetching the login form's CSRF cookie.
    """
    from tests.support.oidc import callback_path

    at_the_provider = provider.http()

    def callback() -> float:
        start = expect(request(sso.port, "GET", "/sso/oidc/login/?next=/projects/"), 302, "OIDC start")
        returned = provider.sign_in(start.headers["Location"], "erin", browser=at_the_provider)
        cookie = {"Cookie": f"sessionid={_cookies(start)['sessionid']}"}
        reply = expect(request(sso.port, "GET", callback_path(returned), cookie), 302, "OIDC callback")
        if reply.headers["Location"] != "/projects/":
            raise RuntimeError(f"the OIDC callback refused the sign-in: {reply.headers['Location']}")
        return reply.seconds * MILLISECONDS

    def password() -> float:
        page = expect(request(sso.port, "GET", "/user/login/"), 200, "login page")
        csrf = _cookies(page)["csrftoken"]
        form = f"email={MEMBER[0]}&password={MEMBER[1]}&csrfmiddlewaretoken={csrf}".encode()
        headers = {
            "Cookie": f"csrftoken={csrf}",
            "Content-Type": "application/x-www-form-urlencoded",
            "Referer": f"http://127.0.0.1:{sso.port}/user/login/",
        }
        reply = request(sso.port, "POST", "/user/login/", headers, form)
        return expect(reply, 302, "password login").seconds * MILLISECONDS

    for _ in range(max(3, count // 10)):
        callback(), password()
    subject, baseline = rotated(count, callback, password)
    return [
        Figure("oidc_callback", "OpenID Connect callback (keys cached)", "ms", "GET /sso/oidc/callback/",
               "POST /user/login/ (password)", subject, baseline, 1.5),
    ]  # fmt: skip


def gateway_steady_state(
    gateway: Server, vanilla: Server, count: int, warmup: int, identity: dict[str, str], key: str, goal: float
) -> list[Figure]:
    """A logged-in user's requests through a trusted gateway: each carries the gateway's identity
    (plain headers, or a signed assertion verified on every request) next to the session the first
    one started; vanilla gets the same requests, headers included, with its own session."""
    first = expect(request(gateway.port, "GET", "/api/current-user/whoami", identity), 200, "gateway login")
    cookies = {
        gateway.name: f"sessionid={_cookies(first)['sessionid']}",
        vanilla.name: log_in(vanilla, *OWNER),
    }

    def get(server: Server) -> Reply:
        headers = {**identity, "Cookie": cookies[server.name]}
        return expect(request(server.port, "GET", "/api/projects/", headers), 200, "/api/projects/")

    for _ in range(warmup):
        get(gateway), get(vanilla)
    subject, baseline = rotated(count, _ms(lambda: get(gateway)), _ms(lambda: get(vanilla)))
    what = "a signed assertion" if "assertion" in key else "identity headers"
    return [
        Figure(key, f"GET /api/projects/ through a trusted gateway ({what}, session started)", "ms",
               "Label Studio + SSO behind a gateway", "vanilla Label Studio", subject, baseline, goal),
    ]  # fmt: skip
