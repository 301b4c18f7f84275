"""URLs we send browsers to: safe relative paths, URLs minus the token, login URLs."""

from __future__ import annotations

from urllib.parse import unquote_plus, urlencode, urlsplit

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils.encoding import escape_uri_path
from django.utils.http import escape_leading_slashes, url_has_allowed_host_and_scheme

MAX_NEXT_LENGTH = 2048
LOGIN_TOKEN_PARAM = "token"
DEFAULT_ORIGIN = "http://localhost:8080"


def is_safe_relative_path(value: object) -> bool:
    """True for a path on this site such as ``/projects/3/data?tab=1``, nothing else."""
    return (
        isinstance(value, str)
        and 0 < len(value) <= MAX_NEXT_LENGTH
        and value.startswith("/")
        and not value.startswith(("//", "/\\"))
        and value.isprintable()
        and "\\" not in value
        and url_has_allowed_host_and_scheme(value, allowed_hosts=None)
    )


def url_without_param(request: HttpRequest, param: str | None) -> str:
    """The request's own path and query, minus every occurrence of ``param`` (if any).

    Other parameters keep their order and exact encoding; a path that starts with
    ``//`` is escaped so the redirect cannot leave the site.
    """
    kept = [
        pair
        for pair in request.META.get("QUERY_STRING", "").split("&")
        if pair and (param is None or unquote_plus(pair.split("=", 1)[0]) != param)
    ]
    path = escape_leading_slashes(escape_uri_path(request.path))
    return path + ("?" + "&".join(kept) if kept else "")


def origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` of an absolute http(s) URL, else None."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def public_origin(request: HttpRequest | None = None) -> str:
    """Label Studio's public origin: LABEL_STUDIO_HOST when set, else the request's."""
    configured = origin_of(getattr(settings, "HOSTNAME", "") or "")
    if configured:
        return configured
    if request is not None:
        return origin_of(request.build_absolute_uri("/")) or DEFAULT_ORIGIN
    return DEFAULT_ORIGIN


def login_url(origin: str, token: str, next_path: str | None = None) -> str:
    """The absolute ``/api/sso/login`` URL that redeems ``token`` and lands on ``next_path``."""
    query = {LOGIN_TOKEN_PARAM: token}
    if next_path:
        query["next"] = next_path
    return f"{origin}{reverse('label_studio_sso:login')}?{urlencode(query)}"
