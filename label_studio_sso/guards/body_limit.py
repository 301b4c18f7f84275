"""Refuse an oversized or unframed request to an SSO or SCIM endpoint, before anything reads its body.

Label Studio's own ContextLogMiddleware reads every request body (up to Django's
250 MiB DATA_UPLOAD_MAX_MEMORY_SIZE) before any view runs, so the token API's cap in
the view alone would come after the whole body was received. This middleware goes
first in MIDDLEWARE and answers 413 from the declared Content-Length, unread. A body
sent chunked (Transfer-Encoding, no Content-Length) gets 411: Django reads no body
without a length, so the view would otherwise see an empty one. Being first, it is also
where the rest of every request is given room on the frame stack (``frame_stack``).
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase
from django.urls import NoReverseMatch, reverse

from .. import audit
from ..errors import MAX_BODY_BYTES, ApiError, ErrorCode, error_response
from ..frame_stack import call_with_room
from ..http import mark_token_response
from ..scim.access import peer_address
from ..scim.responses import ScimError, error_json

SCIM_PREFIX = "/scim/v2/"
MAX_SCIM_BODY_BYTES = 1024 * 1024  # a SCIM message, at most (a group of 10,000 members fits)


class TokenApiBodyLimitMiddleware:
    """413 for a token API request that declares more than MAX_BODY_BYTES."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.path.startswith(SCIM_PREFIX):
            refusal = _scim_refusal(request)
            if refusal is not None:
                return refusal
        elif declared_length(request) > MAX_BODY_BYTES and _is_token_api(request):
            return _unread(ErrorCode.PAYLOAD_TOO_LARGE)
        elif is_unframed(request) and _is_token_api(request):
            return _unread(ErrorCode.LENGTH_REQUIRED)
        # The outermost middleware: the rest of the request runs with room on the frame stack.
        return call_with_room(self.get_response, request)


def _unread(code: str) -> HttpResponseBase:
    response = error_response(ApiError(code))
    response["Connection"] = "close"  # the unread body must not be parsed as the next request
    return mark_token_response(response)


def _scim_refusal(request: HttpRequest) -> HttpResponseBase | None:
    """SCIM's own error body for a body over its limit (413) or without a length (411), unread."""
    if declared_length(request) > MAX_SCIM_BODY_BYTES:
        status = 413
    elif is_unframed(request):
        status = 411
    else:
        return None
    audit.scim_refused(
        method=request.method or "-", resource="-", status=status, scim_type=None, peer=peer_address(request)
    )
    return error_json(ScimError(status), Connection="close")


def is_unframed(request: HttpRequest) -> bool:
    """A body announced by Transfer-Encoding without a Content-Length (chunked)."""
    return bool(request.META.get("HTTP_TRANSFER_ENCODING")) and not request.META.get("CONTENT_LENGTH")


def declared_length(request: HttpRequest) -> int:
    """The Content-Length the client declared; 0 when absent or not a number."""
    try:
        return max(0, int(request.META.get("CONTENT_LENGTH") or 0))
    except ValueError:
        return 0


def _is_token_api(request: HttpRequest) -> bool:
    """The token API, the logout API and the provider's back-channel logout: the bodies we read."""
    path = request.path.rstrip("/")
    for name in (
        "label_studio_sso:token",
        "label_studio_sso:logout",
        "label_studio_sso_oidc:backchannel-logout",
    ):
        try:
            if path == reverse(name).rstrip("/"):
                return True
        except NoReverseMatch:
            continue
    return False
