"""Every error of the portal's APIs as the one JSON error body (errors.error_response), each audited."""

from __future__ import annotations

from typing import Any

from django.db import DatabaseError
from django.http import HttpResponseBase
from rest_framework import exceptions as drf_exceptions
from rest_framework.views import exception_handler as drf_exception_handler

from .. import audit
from ..errors import ApiError, ErrorCode, error_response

_CODE_BY_EXCEPTION: tuple[tuple[type[Exception], str], ...] = (
    (drf_exceptions.NotAuthenticated, ErrorCode.NOT_AUTHENTICATED),
    (drf_exceptions.AuthenticationFailed, ErrorCode.NOT_AUTHENTICATED),
    (drf_exceptions.PermissionDenied, ErrorCode.PERMISSION_DENIED),
    (drf_exceptions.MethodNotAllowed, ErrorCode.METHOD_NOT_ALLOWED),
    (drf_exceptions.Throttled, ErrorCode.RATE_LIMITED),
)
_KEPT_HEADERS = ("WWW-Authenticate", "Retry-After")  # what DRF's own handler sets


def token_api_exception_handler(exc: Exception, context: dict[str, Any]) -> HttpResponseBase | None:
    """DRF's exception handler for the portal's APIs: one JSON error body, with DRF's headers."""
    issuer_id = _issuer_id(context)
    refused = getattr(context.get("view"), "refused", audit.token_refused)
    if isinstance(exc, DatabaseError):
        error = ApiError(ErrorCode.DATABASE_UNAVAILABLE)
        refused(issuer_id=issuer_id, code=error.code, status=error.status)
        return error_response(error)
    if isinstance(exc, ApiError):
        refused(issuer_id=issuer_id, code=exc.code, status=exc.status)
        return error_response(exc)
    drf_response = drf_exception_handler(exc, context)
    if drf_response is None:
        return None  # not an API exception: Django's handling (handler500) takes over
    error = _api_error(exc, drf_response.status_code)
    refused(issuer_id=issuer_id, code=error.code, status=error.status)
    response = error_response(error)
    for header in _KEPT_HEADERS:
        if header in drf_response:
            response[header] = drf_response[header]
    return response


def _issuer_id(context: dict[str, Any]) -> int | None:
    """The authenticated caller's id, if authentication got that far.

    Read from what DRF already settled: asking ``request.user`` would authenticate again,
    and when authentication itself failed on the database it would fail again here.
    """
    user = getattr(context.get("request"), "_user", None)
    return user.pk if user is not None and user.is_authenticated else None


def _api_error(exc: Exception, status: int) -> ApiError:
    """The code DRF's exception stands for; one this API never raises keeps its status."""
    for exception_type, code in _CODE_BY_EXCEPTION:
        if isinstance(exc, exception_type):
            detail = getattr(exc, "detail", None)
            if isinstance(exc, drf_exceptions.AuthenticationFailed) and isinstance(detail, str):
                return ApiError(code, detail)  # the authenticator's own words (expired, revoked…)
            return ApiError(code, status=status)
    return ApiError(f"HTTP_{status}", status=status)
