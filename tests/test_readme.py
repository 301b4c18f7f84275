"""The README's reference tables say what the code does and measured: variables, error codes, figures."""

from __future__ import annotations

import json
import re

from sso_support import REPO

from label_studio_sso.conf import OPTIONS
from label_studio_sso.container.environment import IMAGE_OPTIONS
from label_studio_sso.errors import ERRORS

README = (REPO / "README.md").read_text()


def table_rows(heading: str) -> list[list[str]]:
    """The cells of the first table after ``heading``."""
    section = README.split(heading, 1)[1]
    rows = []
    for line in section.splitlines():
        if line.startswith("|"):
            rows.append([cell.strip() for cell in line.strip("|").split("|")])
        elif rows:
            break
    return rows[2:]  # without the header and its rule


def test_the_configuration_table_names_every_variable_with_its_default() -> None:
    documented: dict[str, str] = {}
    for name_cell, _where, default, *_ in table_rows("## Configuration"):
        for name in re.findall(r"`([A-Z_]+)(?:\[_FILE\])?`", name_cell):
            documented[name] = default
    for option in (*OPTIONS, *IMAGE_OPTIONS):
        assert option.name in documented, option.name
        if isinstance(option.default, (int, str)) and not isinstance(option.default, bool) and option.default:
            assert documented[option.name] == f"`{option.default}`", option.name


def test_the_error_table_gives_every_code_its_status() -> None:
    rows = {code.strip("`"): int(status) for status, code, _when in table_rows("Errors are always")}
    assert rows == {code: kind.status for code, kind in ERRORS.items()}


def test_the_performance_table_quotes_the_recorded_benchmark() -> None:
    figures = {
        figure["key"]: f"{figure['ratio_median']:.3f}"
        for figure in json.loads((REPO / "bench" / "results.json").read_text())["figures"]
    }
    keys = ["steady_api_projects", "steady_html_projects", "steady_api_projects_4_clients"]
    rows = table_rows("## Performance")
    assert [(sso, same) for _request, sso, same in rows] == [
        (figures[key], figures[f"aa_{key}"]) for key in keys
    ]
