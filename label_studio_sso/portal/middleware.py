"""JWTAutoLoginMiddleware: log a browser in from a token cookie or URL parameter.

Requests without a token pay two dictionary look-ups and nothing else: after the
first request the browser has an ordinary Label Studio session.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase, HttpResponseRedirect
from django.urls import NoReverseMatch, reverse

from .. import audit
from ..conf import sso_settings
from ..errors import Reason
from ..guards.ended_sessions import guard_request
from ..http import delete_token_cookie, mark_token_response, url_without_param
from ..login_tokens import could_be_login_token
from .confirmation import confirmation_url
from .login import log_in_with_token

TOKEN_METHODS = frozenset({"GET", "HEAD"})


class JWTAutoLoginMiddleware:
    """Redeem a login token found in the cookie or the URL, then carry on as a session.

    Only GET and HEAD navigations log in. A URL token is always removed by a redirect
    to the same URL without it, so it does not stay in the address bar, history,
    Referer or access logs; a cookie token is always deleted. A URL parameter whose
    values are not shaped like a signed JWT is not ours and is left alone (Label
    Studio's invite links put its organization token there).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        guard_request(request)  # ended sessions are refused even where only this middleware is named
        if request.method not in TOKEN_METHODS:
            return self.get_response(request)
        param = sso_settings.JWT_SSO_TOKEN_PARAM
        cookie = sso_settings.JWT_SSO_COOKIE_NAME
        url_tokens = request.GET.getlist(param) if param and param in request.GET else None
        if url_tokens is not None and not any(could_be_login_token(value) for value in url_tokens):
            url_tokens = None
        has_cookie = bool(cookie) and bool(request.COOKIES.get(cookie))  # empty = no token
        if url_tokens is None and not has_cookie:
            return self.get_response(request)
        if url_tokens is not None and not _is_login_view(request):
            return self._log_in_from_url(request, param, url_tokens, has_cookie)
        if has_cookie:
            return self._log_in_from_cookie(request, request.COOKIES[cookie])
        return self.get_response(request)

    def _log_in_from_url(
        self, request: HttpRequest, param: str, tokens: list[str], has_cookie: bool
    ) -> HttpResponseBase:
        landing = url_without_param(request, param)
        if len(tokens) == 1:
            reason = log_in_with_token(request, tokens[0], transport="url").reason
        else:
            reason = Reason.AMBIGUOUS
            audit.login_refused(reason=reason, transport="url")
        if reason == Reason.CONFIRMATION_REQUIRED:
            landing = confirmation_url(landing) or landing
        response = mark_token_response(HttpResponseRedirect(landing), reason)
        if has_cookie:
            delete_token_cookie(request, response)
        return response

    def _log_in_from_cookie(self, request: HttpRequest, token: str) -> HttpResponseBase:
        """A fresh login ends in a redirect to the same URL, like a URL token.

        The page is then served by the new session alone. Serving it in the login request
        breaks under Label Studio's slash-appending middleware, which re-runs the whole
        middleware chain and rebuilds the session from the incoming (anonymous) cookie.
        Refusals and repeats carry on with the request, so a cookie that cannot be
        deleted (a domain mismatch) can never cause a redirect loop.
        """
        reason = log_in_with_token(request, token, transport="cookie").reason
        if reason == Reason.LOGGED_IN:
            response: HttpResponseBase = HttpResponseRedirect(url_without_param(request, None))
        elif reason == Reason.CONFIRMATION_REQUIRED:
            landing = url_without_param(request, None)
            response = HttpResponseRedirect(confirmation_url(landing) or landing)
        else:
            response = self.get_response(request)
        mark_token_response(response, reason)
        delete_token_cookie(request, response)
        return response


def _is_login_view(request: HttpRequest) -> bool:
    """The explicit login view redeems its own ``token`` parameter."""
    try:
        return request.path == reverse("label_studio_sso:login")
    except NoReverseMatch:
        return False
