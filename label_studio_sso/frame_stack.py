"""Run a request in one roomy block of CPython's frame stack.

CPython (3.11 and later) keeps a thread's Python frames in 16 KiB chunks and frees a chunk
as soon as the call that opened it returns. A request whose busy code runs right at a chunk
boundary pays an mmap and a munmap for every call that crosses it. How deep a request runs
decides that, not what the code does: measured in-process on Label Studio's
``GET /api/projects/``, wrapping the same request in 36 more plain Python calls made it
1.33 times slower (about 1,900 extra mmap/munmap pairs per request under strace), 60 more
only 1.03 times; three pass-through middleware cost exactly as much as ours.

A frame too large for a chunk makes CPython allocate one chunk sized for it, twice as large,
and what the request calls then runs in the rest of that chunk (about 30 KiB), so no
boundary is crossed until the request returns: one allocation per request instead of
thousands. The frame is large because its function declares many unused local variables;
they cost one pass that clears them when the frame is made. The size is a trade measured
on Label Studio's pages: a frame of 256 KiB cost 5 % of a 4 ms HTML page, this one 2 %,
and both keep ``GET /api/projects/`` 4 % faster than without.

``FrameRoomMiddleware`` goes first in MIDDLEWARE so the whole request runs in that frame;
``SSO_FRAME_ROOM=false`` takes it out. Delete this module when
``bench/run --frame-room --in-image`` no longer shows it paying off on the Python the image
ships (a CPython that keeps a freed chunk for reuse, or Label Studio at another depth, makes
it dead weight).
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import TypeVar

from django.core.exceptions import MiddlewareNotUsed
from django.http import HttpRequest, HttpResponseBase

from .conf import sso_settings

Request = TypeVar("Request")
Response = TypeVar("Response")

UNUSED_LOCALS = 4_200  # 8 bytes each: a frame just over 32 KiB, so CPython allocates 64 KiB


def _call(call: Callable[[Request], Response], request: Request) -> Response:
    return call(request)


def _roomy(function: Callable[..., object], unused_locals: int) -> Callable[..., object]:
    code = function.__code__
    names = code.co_varnames + tuple(f"_room_{index}" for index in range(unused_locals))
    roomy = code.replace(co_varnames=names, co_nlocals=len(names))
    return types.FunctionType(roomy, function.__globals__, function.__name__)


call_with_room: Callable[[Callable[[Request], Response], Request], Response] = _roomy(  # type: ignore[assignment]
    _call, UNUSED_LOCALS
)
call_with_room.__doc__ = "``call(request)``, with the frame stack room for the whole request."


class FrameRoomMiddleware:
    """The rest of the request, called from the roomy frame; not used when SSO_FRAME_ROOM is false."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        if not sso_settings.SSO_FRAME_ROOM:
            raise MiddlewareNotUsed("SSO_FRAME_ROOM is false")
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return call_with_room(self.get_response, request)
