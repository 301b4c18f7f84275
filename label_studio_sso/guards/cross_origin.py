"""Refuse session-authenticated writes from other origins.

Label Studio switches Django's CSRF check off for its API and its frontend sends no
CSRF token; it relies on SameSite=Lax session cookies. An embedding portal on another
site needs SameSite=None cookies, which would let any site post to the API with the
user's session. Browsers always send ``Origin`` on cross-origin writes, so a write
that rides a logged-in session must come from Label Studio's own origin or from
CSRF_TRUSTED_ORIGINS. Requests without a logged-in session pass, and so do requests
that Label Studio's own JWT middleware authenticated by a Bearer access token (it makes
the token's user the request's user, so the session is not what the write rides on);
for that this middleware must come after ``jwt_auth.middleware.JWTAuthenticationMiddleware``.

A view that is itself a sign-in from another site (SAML's ACS, which an identity provider's
page posts to) declares ``signs_in_from_other_sites``: its credential is what is posted,
never the session, and the session it finds is replaced, so it is not refused here.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth import SESSION_KEY
from django.http import HttpRequest, HttpResponseBase
from django.urls import Resolver404, resolve

from .. import audit
from ..errors import ApiError, ErrorCode, error_response
from ..origins import is_allowed_origin, request_origin

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


class CrossOriginWriteMiddleware:
    """403 JSON for unsafe session-authenticated requests from a foreign origin."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.method in SAFE_METHODS or not _rides_a_session(request):
            return self.get_response(request)
        origin = request_origin(request)
        if (origin is not None and is_allowed_origin(request, origin)) or _signs_in(request):
            return self.get_response(request)  # the view is looked up only for a write refused so far
        audit.write_refused(method=request.method or "", path=request.path, origin=origin)
        return error_response(ApiError(ErrorCode.CROSS_ORIGIN_REFUSED))


def _rides_a_session(request: HttpRequest) -> bool:
    """A logged-in session and no Bearer access token that Label Studio already accepted."""
    session = getattr(request, "session", None)
    return session is not None and SESSION_KEY in session and not getattr(request, "is_jwt", False)


def _signs_in(request: HttpRequest) -> bool:
    """Whether the view at this path declares ``signs_in_from_other_sites``."""
    try:
        view = resolve(request.path_info, getattr(request, "urlconf", None)).func
    except Resolver404:
        return False
    return getattr(view, "signs_in_from_other_sites", False) is True
