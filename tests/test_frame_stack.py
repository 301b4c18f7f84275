"""The request runs in one roomy frame: CPython then never frees and re-allocates a frame
chunk for calls that cross a chunk boundary (see label_studio_sso/frame_stack.py)."""

from __future__ import annotations

import sys
from typing import Any

import pytest
from django.core.exceptions import MiddlewareNotUsed
from django.http import HttpRequest, HttpResponse
from django.test import override_settings

from label_studio_sso.frame_stack import UNUSED_LOCALS, FrameRoomMiddleware, call_with_room


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


def test_the_frame_room_middleware_runs_the_rest_of_the_request_in_the_roomy_frame(rf: Any) -> None:
    seen: list[list[str]] = []

    def rest_of_the_request(request: HttpRequest) -> HttpResponse:
        seen.append(calling_code_names())
        return HttpResponse("ok")

    response = FrameRoomMiddleware(rest_of_the_request)(rf.get("/projects/"))

    assert response.content == b"ok"
    assert call_with_room.__code__.co_name in seen[0][:3]


def test_the_frame_room_is_outermost_and_its_switch_takes_it_out(settings: Any) -> None:
    assert settings.MIDDLEWARE[0] == "label_studio_sso.middleware.FrameRoomMiddleware"
    with override_settings(SSO_FRAME_ROOM=False), pytest.raises(MiddlewareNotUsed):
        FrameRoomMiddleware(lambda request: HttpResponse())
