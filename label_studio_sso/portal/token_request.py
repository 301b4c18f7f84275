"""The SSO API's request bodies: strict JSON objects with ``email`` (and ``next``), or ApiError."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http.request import RawPostDataException
from rest_framework.request import Request

from .. import strict_json
from ..conf import MAX_GROUP_NAME
from ..emails import SURROUNDING_SPACE, InvalidEmail, accepted_email
from ..errors import MAX_BODY_BYTES, ApiError, ErrorCode
from ..http import declared_length, is_safe_relative_path, is_unframed
from ..provisioning import MAX_NAME_LENGTH

MAX_GROUPS = 100


@dataclass(frozen=True)
class TokenRequest:
    """A validated token request body: who, where to land, and the identity's details."""

    email: str
    next: str | None
    create: bool = False
    first_name: str | None = None
    last_name: str | None = None
    groups: tuple[str, ...] | None = None


def parse_token_request(request: Request) -> TokenRequest:
    """The token API's JSON body as a TokenRequest, or ApiError with the code the client needs."""
    data = _json_object(request)
    return TokenRequest(
        email=_clean_email(data.get("email")),
        next=_clean_next(data.get("next")),
        create=_clean_create(data.get("create", False)),
        first_name=_clean_name(data.get("first_name")),
        last_name=_clean_name(data.get("last_name")),
        groups=_clean_groups(data.get("groups")),
    )


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
    if not isinstance(value, str) or not value.strip(SURROUNDING_SPACE):
        raise ApiError(ErrorCode.EMAIL_REQUIRED)
    try:
        return accepted_email(value)
    except InvalidEmail:
        raise ApiError(ErrorCode.INVALID_EMAIL) from None


def _clean_next(value: Any) -> str | None:
    if value is None:
        return None
    if not is_safe_relative_path(value):
        raise ApiError(ErrorCode.INVALID_NEXT)
    return value


def _clean_create(value: Any) -> bool:
    if not isinstance(value, bool):  # JSON true or false only: "yes" or 1 is a client bug
        raise ApiError(ErrorCode.INVALID_IDENTITY)
    return value


def _clean_name(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ApiError(ErrorCode.INVALID_IDENTITY)
    name = value.strip(SURROUNDING_SPACE)
    if len(name) > MAX_NAME_LENGTH or not name.isprintable():
        raise ApiError(ErrorCode.INVALID_IDENTITY)
    return name


def _clean_groups(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or len(value) > MAX_GROUPS:
        raise ApiError(ErrorCode.INVALID_IDENTITY)
    for group in value:
        if not isinstance(group, str) or not group or len(group) > MAX_GROUP_NAME or not group.isprintable():
            raise ApiError(ErrorCode.INVALID_IDENTITY)
    return tuple(value)
