"""The SSO API's request bodies: strict JSON objects with ``email`` (and ``next``), or ApiError."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http.request import RawPostDataException
from rest_framework.request import Request

from .. import strict_json
from ..accounts import SURROUNDING_SPACE
from ..errors import MAX_BODY_BYTES, ApiError, ErrorCode
from ..guards.body_limit import declared_length, is_unframed
from ..http import is_safe_relative_path


@dataclass(frozen=True)
class TokenRequest:
    """A validated token request body."""

    email: str
    next: str | None


def parse_token_request(request: Request) -> TokenRequest:
    """The token API's JSON body as a TokenRequest, or ApiError with the code the client needs."""
    data = _json_object(request)
    return TokenRequest(email=_clean_email(data.get("email")), next=_clean_next(data.get("next")))


def parse_logout_request(request: Request) -> str:
    """The logout API's JSON body: the email of the user whose sessions end, or ApiError."""
    return _clean_email(_json_object(request).get("email"))


def _json_object(request: Request) -> dict[str, Any]:
    django_request = request._request
    if django_request.content_type.lower() != "application/json" or django_request.content_params.get(
        "charset", "utf-8"
    ).lower() not in ("utf-8", "utf8"):
        raise ApiError(ErrorCode.UNSUPPORTED_MEDIA_TYPE)
    # TokenApiBodyLimitMiddleware answers first where installed; this holds where it is not.
    if is_unframed(django_request):
        raise ApiError(ErrorCode.LENGTH_REQUIRED)
    if declared_length(django_request) > MAX_BODY_BYTES:  # Django reads no more than CONTENT_LENGTH
        raise ApiError(ErrorCode.PAYLOAD_TOO_LARGE)
    try:
        raw = django_request.body
    except RawPostDataException:
        raw = b""
    try:
        data = strict_json.loads(raw.decode("utf-8"))
    except strict_json.DuplicateMember:
        raise ApiError(ErrorCode.INVALID_JSON, "The body names a member twice; name each once.") from None
    except (UnicodeDecodeError, ValueError, RecursionError):
        data = None
    if not isinstance(data, dict):
        raise ApiError(ErrorCode.INVALID_JSON)
    return data


def _clean_email(value: Any) -> str:
    email = value.strip(SURROUNDING_SPACE) if isinstance(value, str) else ""
    if not email or len(email) > 254 or not email.isprintable():
        raise ApiError(ErrorCode.EMAIL_REQUIRED)
    return email


def _clean_next(value: Any) -> str | None:
    if value is None:
        return None
    if not is_safe_relative_path(value):
        raise ApiError(ErrorCode.INVALID_NEXT)
    return value
