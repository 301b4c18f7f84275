"""HTTP endpoints: ``POST /api/sso/token`` (issue) and ``GET /api/sso/login`` (redeem).

The token API authenticates exactly through Label Studio's own DRF authentication
classes, so Label Studio's policy (legacy tokens on or off per organization, Personal
Access Tokens) decides who the caller is. A plain browser session cannot issue tokens:
a login token for any user is a portal's server-side business.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.cache import caches
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponseBase, HttpResponseRedirect
from django.http.request import RawPostDataException
from rest_framework import exceptions as drf_exceptions
from rest_framework.authentication import BaseAuthentication, SessionAuthentication
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import BasePermission
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from . import audit, strict_json
from .accounts import (
    REFUSAL_SENTENCES,
    SURROUNDING_SPACE,
    UserRefused,
    find_user_by_email,
    issuer_refusal_reason,
    refusal_reason,
)
from .body_limit import LENGTH_REQUIRED_MESSAGE, MAX_BODY_BYTES, declared_length, is_unframed
from .conf import RATE_LIMIT_CACHE, sso_settings
from .confirmation import confirmation_url
from .exceptions import STATUS_BY_CODE, ApiError, ErrorCode, Reason
from .outage import RETRY_AFTER_SECONDS
from .redirects import LOGIN_TOKEN_PARAM, is_safe_relative_path, login_url, public_origin
from .responses import mark_token_response, method_not_allowed
from .token_login import log_in_with_token
from .tokens import issue_login_token

logger = logging.getLogger(__name__)


# --- the token API ---------------------------------------------------------------------


class ApiCredentialOnly(BaseAuthentication):
    """Wraps SessionAuthentication so it only accepts Label Studio's Bearer tokens.

    Label Studio verifies ``Authorization: Bearer`` access tokens in its own middleware
    (``jwt_auth``), which sets ``request.user`` and ``request.is_jwt``; DRF then sees
    that user through SessionAuthentication. A cookie session alone is refused here.
    """

    def __init__(self, inner: SessionAuthentication) -> None:
        self.inner = inner

    def authenticate(self, request: Request) -> Any:
        if not getattr(request._request, "is_jwt", False):
            return None
        return self.inner.authenticate(request)

    def authenticate_header(self, request: Request) -> str | None:
        return self.inner.authenticate_header(request)


class IsSsoIssuer(BasePermission):
    """Active staff users (or superusers only, per SSO_TOKEN_ISSUER_PERMISSION) who are
    still live members of an organization: Label Studio's member removal leaves the user
    active and their API token working, so the flags alone would let them mint on."""

    message = "Only active staff users who are members of an organization may issue login tokens."

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        if not (user.is_superuser or (sso_settings.SSO_TOKEN_ISSUER_PERMISSION == "staff" and user.is_staff)):
            return False
        return refusal_reason(user) is None


class IssuerRateThrottle(UserRateThrottle):
    """SSO_RATE_LIMIT token requests per issuing user, through DRF's throttling.

    The history lives in the RATE_LIMIT_CACHE cache (the overlay makes it a database
    cache, shared by every worker and replica); without it, in Django's default cache.
    """

    scope = "sso_token"

    @property
    def cache(self) -> Any:  # DRF reads self.cache
        return caches[RATE_LIMIT_CACHE] if RATE_LIMIT_CACHE in settings.CACHES else caches["default"]

    def get_rate(self) -> str:
        return sso_settings.SSO_RATE_LIMIT


class JsonOnly(BaseContentNegotiation):
    """The API always answers JSON, whatever the Accept header asks for."""

    def select_parser(self, request: Request, parsers: Any) -> None:
        return None

    def select_renderer(self, request: Request, renderers: Any, format_suffix: Any = None) -> Any:
        return renderers[0], renderers[0].media_type


@dataclass(frozen=True)
class TokenRequest:
    """A validated token request body."""

    email: str
    next: str | None


class LoginTokenView(APIView):
    """``POST /api/sso/token``: sign a login token for the user with ``email``."""

    permission_classes = (IsSsoIssuer,)
    throttle_classes = (IssuerRateThrottle,)
    renderer_classes = (JSONRenderer,)
    parser_classes = ()
    content_negotiation_class = JsonOnly

    def get_authenticators(self) -> list[BaseAuthentication]:
        return [
            ApiCredentialOnly(authenticator)
            if isinstance(authenticator, SessionAuthentication)
            else authenticator
            for authenticator in super().get_authenticators()
        ]

    def get_exception_handler(self) -> Any:
        return token_api_exception_handler

    def post(self, request: Request) -> Response:
        body = parse_token_request(request)
        user = user_for_issuer(request.user, body.email)
        issued = issue_login_token(user.pk, user.email)
        audit.token_issued(
            issuer_id=request.user.pk, user_id=user.pk, jti=issued.jti, expires_in=issued.expires_in
        )
        return Response(
            {
                "token": issued.token,
                "expires_in": issued.expires_in,
                "login_url": login_url(public_origin(request), issued.token, body.next),
            }
        )

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        return mark_token_response(super().finalize_response(request, response, *args, **kwargs))


def parse_token_request(request: Request) -> TokenRequest:
    """The JSON body as a TokenRequest, or ApiError with the code the client needs."""
    django_request = request._request
    if django_request.content_type.lower() != "application/json" or django_request.content_params.get(
        "charset", "utf-8"
    ).lower() not in ("utf-8", "utf8"):
        raise ApiError(
            ErrorCode.UNSUPPORTED_MEDIA_TYPE, "The body must be JSON (Content-Type: application/json)."
        )
    # TokenApiBodyLimitMiddleware answers first where installed; this holds where it is not.
    if is_unframed(django_request):
        raise ApiError(ErrorCode.LENGTH_REQUIRED, LENGTH_REQUIRED_MESSAGE)
    if declared_length(django_request) > MAX_BODY_BYTES:  # Django reads no more than CONTENT_LENGTH
        raise ApiError(ErrorCode.PAYLOAD_TOO_LARGE, f"The body must be at most {MAX_BODY_BYTES} bytes.")
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
        raise ApiError(
            ErrorCode.INVALID_JSON, 'The body must be a JSON object such as {"email": "alice@example.com"}.'
        )
    return TokenRequest(email=_clean_email(data.get("email")), next=_clean_next(data.get("next")))


def _clean_email(value: Any) -> str:
    email = value.strip(SURROUNDING_SPACE) if isinstance(value, str) else ""
    if not email or len(email) > 254 or not email.isprintable():
        raise ApiError(
            ErrorCode.EMAIL_REQUIRED, '"email" is required: the email address of a Label Studio user.'
        )
    return email


def _clean_next(value: Any) -> str | None:
    if value is None:
        return None
    if not is_safe_relative_path(value):
        raise ApiError(
            ErrorCode.INVALID_NEXT,
            '"next" must be a path on this site starting with /, such as /projects/3/data.',
        )
    return value


_CODE_BY_REFUSAL: dict[str, str] = {
    Reason.USER_NOT_FOUND: ErrorCode.USER_NOT_FOUND,
    Reason.USER_AMBIGUOUS: ErrorCode.USER_AMBIGUOUS,
    Reason.USER_INACTIVE: ErrorCode.USER_INACTIVE,
    Reason.USER_DELETED: ErrorCode.USER_INACTIVE,
    Reason.USER_OUTRANKS_ISSUER: ErrorCode.USER_OUTRANKS_ISSUER,
}


def user_for_issuer(issuer: Any, email: str) -> Any:
    """The user ``issuer`` may mint a token for, or ApiError saying why not."""
    try:
        user = find_user_by_email(email)
    except UserRefused as refused:
        reason: str | None = refused.reason
    else:
        reason = issuer_refusal_reason(issuer, user)
    if reason is not None:
        raise ApiError(_CODE_BY_REFUSAL[reason], REFUSAL_SENTENCES[reason])
    return user


_CODE_BY_EXCEPTION: tuple[tuple[type[Exception], str, str], ...] = (
    (
        drf_exceptions.NotAuthenticated,
        ErrorCode.NOT_AUTHENTICATED,
        "A Label Studio API token is required (Authorization: Token … or Bearer …).",
    ),
    (
        drf_exceptions.AuthenticationFailed,
        ErrorCode.NOT_AUTHENTICATED,
        "The Label Studio API token was not accepted.",
    ),
    (drf_exceptions.PermissionDenied, ErrorCode.PERMISSION_DENIED, IsSsoIssuer.message),
    (drf_exceptions.MethodNotAllowed, ErrorCode.METHOD_NOT_ALLOWED, "Use POST."),
    (
        drf_exceptions.Throttled,
        ErrorCode.RATE_LIMITED,
        "Too many token requests; retry after the number of seconds in Retry-After.",
    ),
    (drf_exceptions.UnsupportedMediaType, ErrorCode.UNSUPPORTED_MEDIA_TYPE, "The body must be JSON."),
    (drf_exceptions.ParseError, ErrorCode.INVALID_JSON, "The body must be a JSON object."),
)


def token_api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Every error of the token API as ``{"error", "error_code"}`` with DRF's headers."""
    if isinstance(exc, ApiError):
        return Response({"error": exc.message, "error_code": exc.code}, status=exc.status)
    if isinstance(exc, DatabaseError):
        logger.warning("sso token API: database unavailable (%s)", type(exc).__name__)
        code = ErrorCode.DATABASE_UNAVAILABLE
        return Response(
            {"error": "The database is unavailable; try again shortly.", "error_code": code},
            status=STATUS_BY_CODE[code],
            headers={"Retry-After": RETRY_AFTER_SECONDS},
        )
    response = drf_exception_handler(exc, context)  # sets WWW-Authenticate and Retry-After
    if response is None:
        return None
    for exception_type, code, message in _CODE_BY_EXCEPTION:
        if isinstance(exc, exception_type):
            if isinstance(exc, drf_exceptions.AuthenticationFailed) and isinstance(exc.detail, str):
                message = str(exc.detail)
            response.data = {"error": message, "error_code": code}
            return response
    response.data = {"error": "The request was refused.", "error_code": f"HTTP_{response.status_code}"}
    return response


# --- the explicit login URL ------------------------------------------------------------


def login_view(request: HttpRequest) -> HttpResponseBase:
    """``GET /api/sso/login?token=…&next=…``: redeem, then go to ``next`` or the login page."""
    if request.method not in ("GET", "HEAD"):
        return method_not_allowed("GET", "HEAD")
    next_path = request.GET.get("next")
    if not is_safe_relative_path(next_path):
        next_path = "/"
    tokens = request.GET.getlist(LOGIN_TOKEN_PARAM)
    if len(tokens) > 1:
        reason = Reason.AMBIGUOUS
        audit.login_refused(reason=reason, transport="login_url")
    else:
        outcome = log_in_with_token(request, tokens[0] if tokens else None, transport="login_url")
        if outcome.logged_in:
            return mark_token_response(HttpResponseRedirect(next_path), outcome.reason)
        if outcome.needs_confirmation:
            landing = confirmation_url(next_path) or next_path
            return mark_token_response(HttpResponseRedirect(landing), outcome.reason)
        reason = outcome.reason
    return mark_token_response(redirect_to_login(next_path), reason)
