"""The benchmark still runs: ``bench/run --quick`` end to end. No timing is judged here."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.repository import REPO

pytestmark = pytest.mark.e2e

EXPECTED_FIGURES = {
    "steady_api_projects",
    "steady_html_projects",
    "steady_api_projects_4_clients",
    "aa_steady_api_projects",
    "aa_steady_html_projects",
    "aa_steady_api_projects_4_clients",
    "worker_rss",
    "issuance_1_client",
    "issuance_8_clients",
    "first_request_cookie",
    "first_request_url",
    "redemption_growth",
    "redemption_growth_expired",
    "image_size",
    "start_to_healthy",
    "oidc_callback",
    "gateway_headers_projects",
    "gateway_assertion_projects",
}


def test_the_quick_benchmark_produces_every_figure_and_its_report(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--output", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    results = json.loads((tmp_path / "results-quick.json").read_text())
    figures = {figure["key"]: figure for figure in results["figures"]}
    assert set(figures) == EXPECTED_FIGURES
    for figure in figures.values():
        assert figure["subject"]["count"] >= 1 and figure["baseline"]["count"] >= 1
        assert figure["subject"]["median"] > 0 and figure["baseline"]["median"] > 0
    # 5 blocks per server in each start order: the main figure pools both orders, the quick
    # run's A/A check measures one (bench/__main__.py: Plan.other_orders)
    for key, count in (("steady_api_projects_4_clients", 10), ("aa_steady_api_projects_4_clients", 5)):
        figure = figures[key]
        assert figure["subject"]["count"] == figure["baseline"]["count"] == count
        assert figure["extra"] == {  # requests per second of the pooled samples, not of one order
            "subject_requests_per_s": round(1000 / figure["subject"]["median"], 1),
            "baseline_requests_per_s": round(1000 / figure["baseline"]["median"], 1),
        }
    assert "deleted 10,000 expired rows" in results["notes"]["purge"]
    report = (tmp_path / "results-quick.md").read_text()
    assert "![latency distributions, SSO against vanilla](latency-quick.png)" in report
    assert (tmp_path / "latency-quick.png").read_bytes().startswith(b"\x89PNG")
