"""``python -m bench [--quick]``: SSO against vanilla Label Studio, side by side (run via bench/run)."""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from . import containers, report, scenarios
from .scenarios import Figure
from .servers import REPO, Server, prepared_database


@dataclass(frozen=True)
class Plan:
    """How many of each measurement; --quick is a smoke run of the same code."""

    steady: int
    warmup: int
    issuance: int
    clients: int
    rounds: int
    first: int
    growth: int
    rows: int
    container_runs: int
    # Start orders for every figure but the main steady state, which always pools both: the
    # quick run checks that the code runs, and each order is a fresh set of server starts.
    other_orders: int


FULL = Plan(steady=400, warmup=50, issuance=300, clients=8, rounds=5, first=300, growth=300, rows=1_000_000,
            container_runs=5, other_orders=2)  # fmt: skip
QUICK = Plan(steady=40, warmup=5, issuance=30, clients=8, rounds=1, first=30, growth=30, rows=10_000,
             container_runs=1, other_orders=1)  # fmt: skip
WORKERS = 2  # the image's WEB_CONCURRENCY default


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench/run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small counts: checks the benchmark runs")
    parser.add_argument("--output", type=Path, default=REPO / "bench", help="where results go")
    parser.add_argument("--no-containers", action="store_true", help="skip the image figures (no Docker)")
    parser.add_argument(
        "--frame-room", action="store_true", help="only: does SSO_FRAME_ROOM still pay off on this Python?"
    )
    parser.add_argument(
        "--in-image", action="store_true", help="with --frame-room: on the Python the image ships"
    )
    arguments = parser.parse_args(argv)
    if arguments.in_image and not arguments.frame_room:
        parser.error("--in-image measures only --frame-room")
    plan = QUICK if arguments.quick else FULL
    arguments.output.mkdir(parents=True, exist_ok=True)
    if arguments.in_image:
        return _frame_room_in_image(arguments)
    if arguments.frame_room:
        return _frame_room_only(arguments, plan)
    started = time.monotonic()
    figures: list[Figure] = []
    notes: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="lsso-bench-") as scratch:
        workdir = Path(scratch)
        say("preparing a migrated database with an owner, a member and ten projects")
        database = prepared_database(workdir)
        figures += _http_figures(plan, database, workdir, notes)
        figures += _growth_figures(plan, database, workdir, notes)
    if not arguments.no_containers:
        figures += _container_figures(plan, notes)
    notes["duration"] = f"{time.monotonic() - started:.0f} s for the whole run"
    _write(arguments, plan, figures, notes)
    missed = [figure.key for figure in figures if not figure.as_dict()["met"]]
    say(f"done in {time.monotonic() - started:.0f} s; goals missed: {', '.join(missed) or 'none'}")
    return 0


def _in_both_orders(
    kinds: dict[str, str],
    database: Path,
    workdir: Path,
    measure: Callable[[dict[str, Server]], list[Figure]],
    env: dict[str, str] | None = None,
    envs: dict[str, dict[str, str]] | None = None,
    orders: int = 2,
) -> list[Figure]:
    """Measure twice, starting the servers in one order and then in the reverse one.

    Two identical servers measured this way differ by 2-3 % depending on which started
    first (an A/A run here showed it); pooling both orders cancels that out. ``orders=1``
    (the quick run's secondary figures) measures the first order only.
    """
    halves = []
    for half, names in enumerate((list(kinds), list(kinds)[::-1])[:orders]):
        servers = {
            name: Server(
                f"{name}-{half}",
                kinds[name],
                database,
                workdir,
                WORKERS,
                (envs or {}).get(name, env if kinds[name] == "sso" else None),
            )
            for name in names
        }
        try:
            for server in servers.values():
                server.start()
            halves.append(measure(servers))
        finally:
            for server in servers.values():
                server.stop()
    return scenarios.pooled(halves)


def _http_figures(plan: Plan, database: Path, workdir: Path, notes: dict[str, object]) -> list[Figure]:
    from tests.support.oidc import CLIENT_ID, CLIENT_SECRET, running_provider

    oidc_server = Server("sso-oidc", "sso", database, workdir, WORKERS)
    with running_provider(
        workdir / "oidc-provider", redirect_uris=[f"http://127.0.0.1:{oidc_server.port}/sso/oidc/callback/"]
    ) as provider:
        oidc_env = {
            "SSO_OIDC_ISSUER": provider.issuer,
            "SSO_OIDC_CLIENT_ID": CLIENT_ID,
            "SSO_OIDC_CLIENT_SECRET": CLIENT_SECRET,
            "REQUESTS_CA_BUNDLE": str(provider.ca_file),
        }
        figures = _steady_and_api_figures(plan, database, workdir, oidc_env)
        oidc_server.env = {**oidc_env, "SSO_CREATE_USERS": "true"}
        try:
            oidc_server.start()
            say(f"OpenID Connect: {plan.first} callbacks against {plan.first} password logins")
            figures += scenarios.oidc_callback(oidc_server, provider, plan.first)
        finally:
            oidc_server.stop()
    notes["servers"] = (
        f"docker/serve.py (gunicorn, preloaded), {WORKERS} gthread workers of 4 threads each, SQLite; "
        "SSO_RATE_LIMIT lifted to 100000/s so issuance is measured, not throttled; OpenID Connect "
        "configured on every SSO server (oidc-provider from npm on this machine, over HTTPS)"
    )
    return figures


def _steady(half: int, plan: Plan) -> Callable[[dict[str, Server]], list[Figure]]:
    """The steady-state measurement of a pair of servers: "sso" the subject, "vanilla" the baseline."""
    return lambda servers: scenarios.steady_state(servers["sso"], servers["vanilla"], half, plan.warmup)


def _steady_and_api_figures(
    plan: Plan, database: Path, workdir: Path, oidc_env: dict[str, str]
) -> list[Figure]:
    half = max(1, plan.steady // 2)
    say(f"steady state: {plan.steady} requests per endpoint per server, interleaved, both start orders")

    def steady(servers: dict[str, Server]) -> list[Figure]:
        return [*_steady(half, plan)(servers), scenarios.memory(servers["sso"], servers["vanilla"])]

    figures = _in_both_orders({"sso": "sso", "vanilla": "vanilla"}, database, workdir, steady, oidc_env)
    say(f"steady state, A/A check (vanilla on both sides): {plan.other_orders} start order(s)")
    check = _in_both_orders(
        {"sso": "vanilla", "vanilla": "vanilla"},
        database,
        workdir,
        _steady(half, plan),
        orders=plan.other_orders,
    )
    for figure in check:  # in the table, next to what they check: what the method can resolve
        figure.key, figure.title = f"aa_{figure.key}", f"A/A, vanilla against vanilla: {figure.title}"
        figure.subject_label = figure.baseline_label = "vanilla Label Studio"
    figures += check
    figures += _gateway_figures(plan, database, workdir, half)
    sso = Server("sso-api", "sso", database, workdir, WORKERS, oidc_env)
    try:
        sso.start()
        say(f"token issuance: {plan.issuance} at 1 client, {plan.rounds} rounds at {plan.clients} clients")
        figures += scenarios.token_issuance(sso, plan.issuance, plan.clients, plan.rounds)
        say(f"first request with a token: {plan.first} of each transport")
        figures += scenarios.first_request(sso, plan.first)
    finally:
        sso.stop()
    return figures


def _gateway_figures(plan: Plan, database: Path, workdir: Path, half: int) -> list[Figure]:
    """Steady state behind a trusted gateway, plain headers and a jose-signed assertion (ES256,
    keys fetched once from gateway.mjs over HTTPS), each in both start orders (the quick run: one)."""
    from tests.support.gateway import ASSERTION_AUDIENCE, ASSERTION_ISSUER, running_gateway

    from .servers import OWNER

    figures: list[Figure] = []
    with running_gateway(workdir / "gateway") as signer:
        assertion = signer.sign(signer.assertion_claims(OWNER[0], exp=int(time.time()) + 6 * 3600))
        ways = (
            ("gateway_headers_projects", {"SSO_PROXY_EMAIL_HEADER": "X-Forwarded-Email"},
             {"X-Forwarded-Email": OWNER[0]}, 1.02),
            ("gateway_assertion_projects",
             {"SSO_PROXY_JWT_HEADER": "X-Goog-Iap-Jwt-Assertion", "SSO_PROXY_JWKS_URL": signer.jwks_url,
              "SSO_PROXY_JWT_AUDIENCE": ASSERTION_AUDIENCE, "SSO_PROXY_JWT_ISSUER": ASSERTION_ISSUER,
              "REQUESTS_CA_BUNDLE": str(signer.ca_file)},
             {"X-Goog-Iap-Jwt-Assertion": assertion}, 1.05),
        )  # fmt: skip
        for key, env, identity, goal in ways:
            say(
                f"steady state behind a gateway ({key}): {plan.steady} requests per server, "
                f"{plan.other_orders} start order(s)"
            )
            figures += _in_both_orders(
                {"sso": "sso", "vanilla": "vanilla"},
                database,
                workdir,
                lambda servers, identity=identity, key=key, goal=goal: scenarios.gateway_steady_state(
                    servers["sso"], servers["vanilla"], half, plan.warmup, identity, key, goal
                ),
                {"SSO_TRUSTED_PROXIES": "127.0.0.1/32", **env},
                orders=plan.other_orders,
            )
    return figures


def _frame_room_figures(plan: Plan, database: Path, workdir: Path) -> list[Figure]:
    """SSO with its roomy frame (subject) against SSO with SSO_FRAME_ROOM=false (baseline), both
    start orders, and the same with the frame on both sides (A/A): whether it still pays off."""
    half = max(1, plan.steady // 2)
    figures: list[Figure] = []
    for prefix, off in (("frame_room", {"SSO_FRAME_ROOM": "false"}), ("aa_frame_room", {})):
        say(f"frame room ({prefix}): {plan.steady} requests per endpoint per server, both start orders")
        measured = _in_both_orders(
            {"sso": "sso", "vanilla": "sso"},
            database,
            workdir,
            _steady(half, plan),
            envs={"sso": {}, "vanilla": off},
        )
        for figure in measured:
            figure.key, figure.goal = f"{prefix}_{figure.key}", 1.0
            figure.subject_label = "SSO, frame room on"
            figure.baseline_label = "SSO, SSO_FRAME_ROOM=false" if off else "SSO, frame room on"
        figures += measured
    return figures


def _frame_room_only(arguments: argparse.Namespace, plan: Plan) -> int:
    """``bench/run --frame-room``: only the frame-room figures, printed and written as results-frame-room.*"""
    with tempfile.TemporaryDirectory(prefix="lsso-bench-") as scratch:
        workdir = Path(scratch)
        database = prepared_database(workdir)
        figures = _frame_room_figures(plan, database, workdir)
    results = [figure.as_dict() for figure in figures]
    for result in results:
        say(f"{result['key']}: ratio of medians {result['ratio_median']:.3f}")
    report.write_json(arguments.output / "results-frame-room.json", _meta(arguments, plan), results, {})
    return 0


def _frame_room_in_image(arguments: argparse.Namespace) -> int:
    """``bench/run --frame-room --in-image``: the frame-room figures measured inside a container
    of the image, whose Python may differ from this machine's; results-frame-room-image.json."""
    say("image: building label-studio-sso:bench with docker/build-image")
    image, _base = containers.build_image("label-studio-sso:bench")
    with tempfile.TemporaryDirectory(prefix="lsso-bench-image-") as scratch:
        inside = Path(scratch) / "out"
        containers.run_in_image(image, ["--frame-room", *(["--quick"] if arguments.quick else [])], inside)
        recorded = json.loads((inside / "results-frame-room.json").read_text())
    # The container's meta says where it measured (its Python); the command and commit are ours.
    meta = {**recorded["meta"], "command": _command(arguments), "commit": _commit()}
    report.write_json(arguments.output / "results-frame-room-image.json", meta, recorded["figures"], {})
    return 0


def _growth_figures(plan: Plan, database: Path, workdir: Path, notes: dict[str, object]) -> list[Figure]:
    say(f"growth: {plan.growth} redemptions with 0, {plan.rows:,} live and {plan.rows:,} expired rows")
    filled = {}
    for name, expired in (("full", False), ("expired", True)):
        filled[name] = workdir / f"{name}.sqlite3"
        shutil.copyfile(database, filled[name])
        scenarios.fill_redeemed_tokens(filled[name], plan.rows, expired=expired)
    half = max(1, plan.growth // 2)
    figures = []
    for order in (("empty", "full", "expired"), ("expired", "full", "empty"))[: plan.other_orders]:
        servers = {
            name: Server(f"sso-{name}", "sso", filled.get(name, database), workdir, WORKERS) for name in order
        }
        try:
            for server in servers.values():
                server.start()
            figures.append(scenarios.redemption_growth(servers, half, plan.rows))
        finally:
            for server in servers.values():
                server.stop()
    purge_dir = workdir / "purge"
    purge_dir.mkdir()
    shutil.copyfile(filled["expired"], purge_dir / "label_studio.sqlite3")
    say(f"growth: purging {plan.rows:,} expired rows at once")
    purge = scenarios.purge_time(purge_dir)
    notes["purge"] = (
        f"purge_expired() (manage.py purge_sso_tokens) deleted {purge['rows_deleted']:,} expired rows "
        f"in {purge['seconds']:.2f} s ({purge['rows_per_second']:,} rows/s) on SQLite"
    )
    return scenarios.pooled(figures)


def _container_figures(plan: Plan, notes: dict[str, object]) -> list[Figure]:
    say("image: building label-studio-sso:bench with docker/build-image")
    image, base = containers.build_image("label-studio-sso:bench")
    say(f"image: {plan.container_runs} start(s) each of {image} and its base {base}, alternating")
    notes["image"] = (
        f"{image} built FROM {base}; both started on an empty data directory (first-start migrations)"
    )
    return [containers.image_size(image, base), containers.start_up(image, base, plan.container_runs)]


def _write(
    arguments: argparse.Namespace, plan: Plan, figures: list[Figure], notes: dict[str, object]
) -> None:
    results = [figure.as_dict() for figure in figures]
    meta = _meta(arguments, plan)
    suffix = "-quick" if arguments.quick else ""
    chart = f"latency{suffix}.png"
    report.write_json(arguments.output / f"results{suffix}.json", meta, results, notes)
    report.write_chart(
        arguments.output / chart,
        results,
        {figure.key: (figure.subject, figure.baseline) for figure in figures},
    )
    report.write_markdown(arguments.output / f"results{suffix}.md", meta, results, notes, chart)
    say(f"wrote {arguments.output / f'results{suffix}.md'}, results{suffix}.json and {chart}")


def _meta(arguments: argparse.Namespace, plan: Plan) -> dict[str, str]:
    """When, where and how a run measured, for the results files."""
    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": _command(arguments),
        "commit": _commit(),
        "machine": _machine(),
        "versions": _versions(),
        "method": (
            "both servers run at the same time on loopback, one fresh connection per request; "
            "requests alternate between subject and baseline (A B, B A, ...) after a warm-up; "
            f"counts {vars(plan)}"
        ),
    }


def _command(arguments: argparse.Namespace) -> str:
    flags = {
        "--frame-room": arguments.frame_room,
        "--in-image": arguments.in_image,
        "--quick": arguments.quick,
    }
    return " ".join(["bench/run", *(flag for flag, given in flags.items() if given)])


def _commit() -> str:
    """This checkout's commit, or "unknown" where there is no git (inside the image)."""
    try:
        result = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
        )
    except FileNotFoundError:
        return "unknown"
    return result.stdout.strip() or "unknown"


def _machine() -> str:
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        platform.processor() or "unknown CPU",
    )  # fmt: skip
    memory_kib = int(Path("/proc/meminfo").read_text().split()[1])
    return f"{os.cpu_count()} cores ({cpu}), {memory_kib / 1024 / 1024:.0f} GiB, Linux {platform.release()}"


def _versions() -> str:
    names = ("label-studio", "label-studio-sso", "django", "gunicorn")
    packages = ", ".join(f"{name} {importlib.metadata.version(name)}" for name in names)
    return f"Python {platform.python_version()}, {packages}"


def say(message: str) -> None:
    sys.stderr.write(f"bench: {message}\n")
    sys.stderr.flush()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
