"""Refuse session-authenticated writes from other origins (DESIGN section 4a).

Label Studio switches Django's CSRF check off for its API and its frontend sends no
CSRF token; it relies on SameSite=Lax session cookies. An embedding portal on another
site needs SameSite=None cookies, which would let any site post to the API with the
user's session. Browsers always send ``Origin`` on cross-origin writes, so a write
that rides a logged-in session must come from Label Studio's own origin or from
CSRF_TRUSTED_ORIGINS. Requests without a logged-in session pass, and so do requests
that Label Studio's own JWT middleware authenticated by a Bearer access token (it makes
the token's user the request's user, so the session is not what the write rides on);
for that this middleware must come after ``jwt_auth.middleware.JWTAuthenticationMiddleware``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from contextlib import suppress
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponseBase, JsonResponse
from django.utils.http import is_same_domain

from .conf import sso_settings
from .exceptions import STATUS_BY_CODE, ErrorCode

logger = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


class CrossOriginWriteMiddleware:
    """403 JSON for unsafe session-authenticated requests from a foreign origin."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.method in SAFE_METHODS or not _rides_a_session(request):
            return self.get_response(request)
        origin = request_origin(request)
        if origin is not None and is_allowed_origin(request, origin):
            return self.get_response(request)
        logger.warning(
            "refused a cross-origin %s to %s with a logged-in session (origin %s)",
            request.method,
            request.path[:200],
            (origin or "missing")[:200],
        )
        return JsonResponse(
            {
                "error": "Cross-origin request refused: writes with a Label Studio session must come "
                "from Label Studio's own origin or from CSRF_TRUSTED_ORIGINS.",
                "error_code": ErrorCode.CROSS_ORIGIN_REFUSED,
            },
            status=STATUS_BY_CODE[ErrorCode.CROSS_ORIGIN_REFUSED],
        )


def _rides_a_session(request: HttpRequest) -> bool:
    """A logged-in session and no Bearer access token that Label Studio already accepted."""
    session = getattr(request, "session", None)
    return session is not None and SESSION_KEY in session and not getattr(request, "is_jwt", False)


def request_origin(request: HttpRequest) -> str | None:
    """The ``Origin`` header, or the origin of ``Referer`` when Origin is absent."""
    origin = request.META.get("HTTP_ORIGIN")
    if origin is not None:
        return origin
    referer = request.META.get("HTTP_REFERER")
    if not referer:
        return None
    try:
        parts = urlsplit(referer)
    except ValueError:
        return None
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def _own_origins(request: HttpRequest) -> set[str]:
    origins = set()
    with suppress(DisallowedHost):  # an unknown Host has no origin of its own
        origins.add(f"{request.scheme}://{request.get_host()}")
    hostname = getattr(settings, "HOSTNAME", "")  # Label Studio's public URL (LABEL_STUDIO_HOST)
    if hostname:
        parts = urlsplit(hostname)
        if parts.scheme and parts.netloc:
            origins.add(f"{parts.scheme}://{parts.netloc}")
    return {origin.lower() for origin in origins}


def is_allowed_origin(request: HttpRequest, origin: str, *, also: Iterable[str] = ()) -> bool:
    """Label Studio's own origin, one of CSRF_TRUSTED_ORIGINS or of ``also`` (``*.`` wildcards too)."""
    origin = origin.strip().lower()
    if origin == "null":  # sandboxed frames, file: pages and privacy redirects
        return False
    if origin in _own_origins(request):
        return True
    try:
        parts = urlsplit(origin)
    except ValueError:
        return False
    for trusted in (*getattr(settings, "CSRF_TRUSTED_ORIGINS", ()), *also):
        trusted = trusted.strip().lower()
        if "*" not in trusted:
            if origin == trusted:
                return True
            continue
        trusted_parts = urlsplit(trusted)
        wildcard_host = trusted_parts.netloc.replace("*", "", 1)
        if parts.scheme == trusted_parts.scheme and is_same_domain(parts.netloc, wildcard_host):
            return True
    return False


def is_portal_origin(request: HttpRequest, origin: str) -> bool:
    """An origin the operator named as a portal: allowed to write (CSRF_TRUSTED_ORIGINS) or to
    embed Label Studio (SSO_FRAME_ANCESTORS), or Label Studio's own."""
    embedders = [item for item in sso_settings.SSO_FRAME_ANCESTORS if not item.startswith("'")]
    return is_allowed_origin(request, origin, also=embedders)
