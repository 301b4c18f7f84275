"""``GET /api/sso/login?token=…&next=…``: the explicit login link a portal hands out."""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponseBase, HttpResponseRedirect

from .. import audit
from ..errors import Reason
from ..http import landing_path, mark_token_response, method_not_allowed
from .confirmation import confirmation_url
from .links import LOGIN_TOKEN_PARAM
from .login import log_in_with_token


def login_view(request: HttpRequest) -> HttpResponseBase:
    """Redeem the token, then go to ``next``, the confirmation page, or the login page."""
    if request.method not in ("GET", "HEAD"):
        return method_not_allowed("GET", "HEAD")
    next_path = landing_path(request)
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
