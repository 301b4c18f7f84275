"""Who may embed Label Studio in a frame: CSP ``frame-ancestors`` from SSO_FRAME_ANCESTORS.

The directive goes into the enforced Content-Security-Policy header (Label Studio's own
CSP is report-only by default, and frame-ancestors is ignored in report-only policies),
and X-Frame-Options is dropped because it cannot express an allow-list.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase

from ..conf import sso_settings

CSP_HEADER = "Content-Security-Policy"
_FRAME_ANCESTORS = re.compile(r"\s*frame-ancestors\b[^;]*;?", re.IGNORECASE)


class FrameAncestorsMiddleware:
    """Add ``frame-ancestors`` to every response when SSO_FRAME_ANCESTORS is set."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        ancestors = sso_settings.SSO_FRAME_ANCESTORS
        if ancestors:
            response[CSP_HEADER] = with_frame_ancestors(response.get(CSP_HEADER, ""), ancestors)
            # Django's XFrameOptionsMiddleware runs inside this one and has already set it.
            if "X-Frame-Options" in response:
                del response["X-Frame-Options"]
        return response


def with_frame_ancestors(policy: str, ancestors: tuple[str, ...]) -> str:
    """``policy`` with its frame-ancestors directive replaced by ours."""
    directive = "frame-ancestors " + " ".join(ancestors)
    rest = _FRAME_ANCESTORS.sub("", policy).strip().rstrip(";").strip()
    return f"{rest}; {directive}" if rest else directive
