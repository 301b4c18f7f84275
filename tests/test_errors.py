"""One error vocabulary: every code has its status and sentence, and one builder writes the body."""

from __future__ import annotations

import json
import re
from pathlib import Path

from label_studio_sso.errors import ERRORS, ApiError, ErrorCode, error_response

PACKAGE = Path(__file__).resolve().parent.parent / "label_studio_sso"


def codes() -> set[str]:
    return {value for name, value in vars(ErrorCode).items() if name.isupper()}


def test_every_error_code_has_a_client_error_or_unavailable_status_and_a_sentence() -> None:
    assert set(ERRORS) == codes()
    for code, kind in ERRORS.items():
        assert 400 <= kind.status < 500 or kind.status == 503, code
        assert kind.sentence.endswith(".") and len(kind.sentence) > 5, code


def test_the_body_names_the_code_and_the_sentence_and_a_503_says_when_to_retry() -> None:
    response = error_response(ApiError(ErrorCode.DATABASE_UNAVAILABLE))
    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert json.loads(response.content) == {
        "error": "The database is unavailable; try again shortly.",
        "error_code": "DATABASE_UNAVAILABLE",
    }
    precise = error_response(
        ApiError(ErrorCode.INVALID_JSON, "The body names a member twice; name each once.")
    )
    assert precise.status_code == 400 and "Retry-After" not in precise
    assert json.loads(precise.content)["error"] == "The body names a member twice; name each once."


def test_only_the_errors_module_writes_an_error_body_or_a_sentence() -> None:
    writers = sorted(
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if path.name != "errors.py"
        and re.search(r"[\"']error_code[\"']|database is unavailable", path.read_text())
    )
    assert writers == []
