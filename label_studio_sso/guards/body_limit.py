"""Refuse an oversized or unframed request to a view that reads its body, before anything reads it.

Label Studio's own ContextLogMiddleware reads every request body (up to Django's
250 MiB DATA_UPLOAD_MAX_MEMORY_SIZE) before any view runs, so a view's cap alone would
come after the whole body was received. This middleware goes first in MIDDLEWARE and
answers 413 from the declared Content-Length, unread. A body sent chunked
(Transfer-Encoding, no Content-Length) gets 411: Django reads no body without a length,
so the view would otherwise see an empty one.

Each way in declares the limit of the views that read bodies (a ``body_limit`` attribute:
the token and logout APIs, the provider's back-channel logout, SCIM) and how it answers a
refusal; the guard only finds the view. No view reads less than SMALLEST_BODY_LIMIT, so a
request declaring no more than that is not looked up at all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponseBase
from django.urls import Resolver404, resolve

from ..errors import MAX_BODY_BYTES, ApiError, ErrorCode, error_response
from ..http import declared_length, is_unframed, mark_token_response

SMALLEST_BODY_LIMIT = MAX_BODY_BYTES


@dataclass(frozen=True)
class BodyLimit:
    """What a view reads at most, and its answer (unread) to a request over it (413) or unframed (411)."""

    max_bytes: int
    refuse: Callable[[HttpRequest, int], HttpResponseBase]

    def __post_init__(self) -> None:
        if self.max_bytes < SMALLEST_BODY_LIMIT:
            raise ValueError("a body limit below SMALLEST_BODY_LIMIT would not be looked up")


def api_error_unread(request: HttpRequest, status: int) -> HttpResponseBase:
    """The JSON API error for a body over its limit or without a length, connection closed."""
    response = error_response(
        ApiError(ErrorCode.PAYLOAD_TOO_LARGE if status == 413 else ErrorCode.LENGTH_REQUIRED)
    )
    response["Connection"] = "close"  # the unread body must not be parsed as the next request
    return mark_token_response(response)


API_BODY_LIMIT = BodyLimit(MAX_BODY_BYTES, api_error_unread)  # the JSON APIs' bodies: 16 KiB


class TokenApiBodyLimitMiddleware:
    """413 or 411, unread, for a request over the body limit its view declares."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        length, unframed = declared_length(request), is_unframed(request)
        limit = body_limit_of(request) if length > SMALLEST_BODY_LIMIT or unframed else None
        if limit is not None and (length > limit.max_bytes or unframed):
            return limit.refuse(request, 413 if length > limit.max_bytes else 411)
        return self.get_response(request)


def body_limit_of(request: HttpRequest) -> BodyLimit | None:
    """The body limit the view at this request's path declares; None for a view that declares none."""
    try:
        view: Any = resolve(request.path_info, getattr(request, "urlconf", None)).func
    except Resolver404:
        return None
    limit = getattr(getattr(view, "view_class", view), "body_limit", None)
    return limit if isinstance(limit, BodyLimit) else None
