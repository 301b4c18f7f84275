"""Headers for every response that carries or consumes a login token."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponseBase, JsonResponse

from .conf import sso_settings
from .exceptions import STATUS_BY_CODE, ErrorCode

OUTCOME_HEADER = "X-Label-Studio-SSO"


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
    response = JsonResponse(
        {"error": f"Use {' or '.join(allowed)}.", "error_code": ErrorCode.METHOD_NOT_ALLOWED},
        status=STATUS_BY_CODE[ErrorCode.METHOD_NOT_ALLOWED],
    )
    response["Allow"] = ", ".join(allowed)
    return mark_token_response(response)
