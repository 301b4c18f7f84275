"""Request origins: where a request came from, and whether the operator trusts it.

An origin is ``scheme://host[:port]``, read from ``Origin`` or, for navigations (which
carry none), from ``Referer``. Label Studio's own origin is the request's host and its
public URL (LABEL_STUDIO_HOST); others are trusted when listed in CSRF_TRUSTED_ORIGINS
(writes) or SSO_FRAME_ANCESTORS (portals that embed Label Studio).
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import suppress
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest
from django.utils.http import is_same_domain

from .conf import sso_settings

DEFAULT_ORIGIN = "http://localhost:8080"


def origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` of an absolute http(s) URL, else None."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def request_origin(request: HttpRequest) -> str | None:
    """The ``Origin`` header, or the origin of ``Referer`` when Origin is absent."""
    origin = request.META.get("HTTP_ORIGIN")
    if origin is not None:
        return origin
    return origin_of(request.META.get("HTTP_REFERER") or "")


def public_origin(request: HttpRequest | None = None) -> str:
    """Label Studio's public origin: LABEL_STUDIO_HOST when set, else the request's."""
    configured = origin_of(getattr(settings, "HOSTNAME", "") or "")
    if configured:
        return configured
    if request is not None:
        return origin_of(request.build_absolute_uri("/")) or DEFAULT_ORIGIN
    return DEFAULT_ORIGIN


def own_origins(request: HttpRequest) -> set[str]:
    """The request's own origin (when its Host is allowed) and LABEL_STUDIO_HOST's, lower case."""
    origins = set()
    with suppress(DisallowedHost):  # an unknown Host has no origin of its own
        origins.add(f"{request.scheme}://{request.get_host()}")
    configured = origin_of(getattr(settings, "HOSTNAME", "") or "")
    if configured:
        origins.add(configured)
    return {origin.lower() for origin in origins}


def is_allowed_origin(request: HttpRequest, origin: str, *, also: Iterable[str] = ()) -> bool:
    """Label Studio's own origin, one of CSRF_TRUSTED_ORIGINS or of ``also`` (``*.`` wildcards too)."""
    origin = origin.strip().lower()
    if origin == "null":  # sandboxed frames, file: pages and privacy redirects
        return False
    if origin in own_origins(request):
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
