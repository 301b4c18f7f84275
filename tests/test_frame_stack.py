"""The request runs in one roomy frame: CPython then never frees and re-allocates a frame
chunk for calls that cross a chunk boundary (see label_studio_sso/frame_stack.py)."""

from __future__ import annotations

import sys
from typing import Any

import pytest
from django.http import HttpRequest, HttpResponse

from label_studio_sso.frame_stack import UNUSED_LOCALS, call_with_room
from label_studio_sso.guards.body_limit import TokenApiBodyLimitMiddleware


def calling_code_names() -> list[str]:
    frame, names = sys._getframe(1), []
    while frame is not None:
        names.append(frame.f_code.co_name)
        frame = frame.f_back
    return names


def test_the_roomy_call_passes_the_request_through_and_its_frame_is_larger_than_a_chunk() -> None:
    assert call_with_room(lambda request: request * 2, 21) == 42
    code = call_with_room.__code__
    assert code.co_nlocals >= UNUSED_LOCALS
    assert code.co_nlocals * 8 > 32 * 1024  # over half of the 64 KiB chunk CPython then makes


def test_errors_pass_through_unchanged() -> None:
    def fails(request: Any) -> Any:
        raise LookupError(request)

    with pytest.raises(LookupError, match="kept"):
        call_with_room(fails, "kept")


def test_the_outermost_middleware_runs_the_rest_of_the_request_in_the_roomy_frame(rf: Any) -> None:
    seen: list[list[str]] = []

    def rest_of_the_request(request: HttpRequest) -> HttpResponse:
        seen.append(calling_code_names())
        return HttpResponse("ok")

    response = TokenApiBodyLimitMiddleware(rest_of_the_request)(rf.get("/projects/"))

    assert response.content == b"ok"
    assert call_with_room.__code__.co_name in seen[0][:3]
