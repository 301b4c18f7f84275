"""Coverage-guided fuzzing (atheris) of token verification and the token API's parser, bounded."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.repository import REPO

SECONDS = 20

pytest.importorskip("atheris", reason="atheris ships wheels for Linux x86_64 only")


def test_twenty_seconds_of_coverage_guided_fuzzing_find_no_crash(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "tests.fuzz.fuzz_inputs", f"-max_total_time={SECONDS}", "-timeout=10",
         f"-artifact_prefix={tmp_path}/", str(tmp_path / "corpus")],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=SECONDS * 10,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-4000:]
    done = re.search(r"Done (\d+) runs", run.stderr)
    assert done and int(done[1]) > 10_000, run.stderr[-2000:]
    assert not list(tmp_path.glob("crash-*"))
