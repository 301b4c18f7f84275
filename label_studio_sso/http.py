"""What we send browsers: safe landing paths, URLs minus a token, and token-safe headers.

Every response that carries or consumes a login token is marked so nothing caches it and
no Referer carries it onward; a landing path is always a path on this site.
"""

from __future__ import annotations

from urllib.parse import unquote_plus

from django.http import HttpRequest, HttpResponseBase
from django.utils.encoding import escape_uri_path
from django.utils.http import escape_leading_slashes, url_has_allowed_host_and_scheme

from .conf import sso_settings
from .errors import ApiError, ErrorCode, error_response

OUTCOME_HEADER = "X-Label-Studio-SSO"
MAX_NEXT_LENGTH = 2048
ERROR_PARAM = "sso_error"  # the login page shows errors.login_page_sentence for it


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


def landing_path(request: HttpRequest) -> str:
    """The request's ``next`` parameter when it is a safe path on this site, else ``/``."""
    next_path = request.GET.get("next")
    return next_path if is_safe_relative_path(next_path) else "/"


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


def mark_token_response(response: HttpResponseBase, reason: str | None = None) -> HttpResponseBase:
    """No caching, no Referer carrying a token onward, and the login outcome if any."""
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    if reason is not None:
        response[OUTCOME_HEADER] = reason
    return response


def delete_token_cookie(request: HttpRequest, response: HttpResponseBase) -> None:
    """Expire the portal's token cookie with the path and domain it was set with."""
    secure = request.is_secure()
    response.delete_cookie(
        sso_settings.JWT_SSO_COOKIE_NAME,
        path=sso_settings.JWT_SSO_COOKIE_PATH,
        domain=sso_settings.JWT_SSO_COOKIE_DOMAIN,
        samesite="None" if secure else "Lax",
    )


def method_not_allowed(*allowed: str) -> HttpResponseBase:
    """405 JSON naming the methods a token-consuming page accepts, in ``Allow`` too."""
    response = error_response(ApiError(ErrorCode.METHOD_NOT_ALLOWED, f"Use {' or '.join(allowed)}."))
    response["Allow"] = ", ".join(allowed)
    return mark_token_response(response)


def is_unframed(request: HttpRequest) -> bool:
    """A body announced by Transfer-Encoding without a Content-Length (chunked)."""
    return bool(request.META.get("HTTP_TRANSFER_ENCODING")) and not request.META.get("CONTENT_LENGTH")


def declared_length(request: HttpRequest) -> int:
    """The Content-Length the client declared; 0 when absent or not a number."""
    try:
        return max(0, int(request.META.get("CONTENT_LENGTH") or 0))
    except ValueError:
        return 0


def refused_to_login_page(next_path: str, reason: str, *, via: str) -> HttpResponseBase:
    """A sign-in refused: audited, and Label Studio's login page with ``sso_error=<reason>``."""
    from django.contrib.auth.views import redirect_to_login

    from . import audit

    audit.login_refused(reason=reason, transport=via)
    response = redirect_to_login(next_path)
    response["Location"] += f"&{ERROR_PARAM}={reason}"
    return mark_token_response(response, reason)
