"""The README and the manual (docs/) say what the code does: a strict build, the generated
configuration reference, the error codes, the figures, and the claims a test can hold."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

from label_studio_sso.conf import OPTIONS
from label_studio_sso.container.environment import IMAGE_OPTIONS
from label_studio_sso.errors import ERRORS
from label_studio_sso.reference import FILE_NOT_SECRET, LABEL_STUDIO_FILE_SECRETS, reference
from tests.support.repository import REPO

DOCS = REPO / "docs"
MAX_README_LINES = 250


def page(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def table_rows(text: str, heading: str) -> list[list[str]]:
    """The cells of the first table after ``heading``."""
    section = text.split(heading, 1)[1]
    rows = []
    for line in section.splitlines():
        if line.startswith("|"):
            rows.append([cell.strip() for cell in line.strip("|").split("|")])
        elif rows:
            break
    return rows[2:]  # without the header and its rule


def test_the_manual_builds_in_strict_mode_so_no_link_anchor_or_page_is_broken(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(REPO / "scripts" / "docs"), "build", str(tmp_path / "site")], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "site" / "configuration" / "index.html").exists()


def test_the_configuration_reference_is_what_the_option_tables_generate() -> None:
    assert page("configuration.md") == reference(), "run scripts/docs reference"


def test_every_setting_the_code_reads_is_in_the_option_tables() -> None:
    named = {option.name for option in (*OPTIONS, *IMAGE_OPTIONS)}
    read: set[str] = set()
    for path in (REPO / "label_studio_sso").rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        read.update(re.findall(r"sso_settings\.([A-Z][A-Z0-9_]+)", source))
        read.update(
            re.findall(
                r"""(?:value|sso\.get|image\.get|image)\(?\[?["']((?:SSO|JWT_SSO)_[A-Z0-9_]+)""", source
            )
        )
    assert read - named == set()
    assert all(option.summary for option in (*OPTIONS, *IMAGE_OPTIONS))


def test_the_secrets_the_image_reads_from_files_are_the_ones_the_reference_names() -> None:
    entrypoint = (REPO / "docker" / "entrypoint.sh").read_text()
    listed = set()
    for name in ("SECRET_VARIABLES", "FILE_VARIABLES"):
        block = re.search(rf"^{name}=\(([^)]*)\)", entrypoint, re.MULTILINE)
        assert block is not None
        listed.update(block.group(1).split())
    secrets = {option.name for option in OPTIONS if option.secret}
    assert listed == secrets | set(LABEL_STUDIO_FILE_SECRETS) | set(FILE_NOT_SECRET)


def test_the_error_table_gives_every_code_its_status() -> None:
    rows = {
        code.strip("`"): int(status)
        for status, code, _when in table_rows(page("api.md"), "Errors are always")
    }
    assert rows == {code: kind.status for code, kind in ERRORS.items()}


def test_the_performance_table_quotes_the_recorded_benchmark() -> None:
    figures = {
        figure["key"]: f"{figure['ratio_median']:.3f}"
        for figure in json.loads((REPO / "bench" / "results.json").read_text())["figures"]
    }
    keys = ["steady_api_projects", "steady_html_projects", "steady_api_projects_4_clients"]
    rows = table_rows(page("testing.md"), "## Performance")
    assert [(sso, same) for _request, sso, same in rows] == [
        (figures[key], figures[f"aa_{key}"]) for key in keys
    ]


def test_the_readme_is_a_short_page_whose_first_commands_are_run_and_test() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= MAX_README_LINES
    commands = re.search(r"```sh\n(.*?)```", readme, re.DOTALL)
    assert commands is not None
    assert [line.split()[0] for line in commands.group(1).splitlines()] == ["scripts/run", "scripts/test"]
    for link in re.findall(r"\]\((docs/[^)#]+)", readme):
        assert (REPO / link).exists(), link


def test_figures_live_only_in_testing_and_bench() -> None:
    """Test counts and run times belong to docs/testing.md and bench/, not to the manual's other pages."""
    count = re.compile(r"\b\d[\d,]* (?:tests|passed)\b")
    for path in [REPO / "README.md", *DOCS.glob("*.md")]:
        if path.name != "testing.md":
            assert not count.findall(path.read_text(encoding="utf-8")), path.name


@pytest.mark.parametrize(("claim", "page_name"), [("seven middleware", "deploying.md")])
def test_the_number_of_middleware_the_overlay_adds_is_the_one_the_manual_gives(
    claim: str, page_name: str
) -> None:
    ours = [item for item in settings.MIDDLEWARE if item.startswith("label_studio_sso.")]
    assert claim in page(page_name)
    assert {"seven": 7}[claim.split()[0]] == len(ours)
