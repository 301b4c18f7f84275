"""``/sso/oidc/login/`` and ``/sso/oidc/callback/``: the button's two ends.

Both answer only when SSO_OIDC_ISSUER is set (404 otherwise). A sign-in that fails, for any
reason, ends on Label Studio's login page with ``sso_error=<reason>`` (the page shows a
sentence for it; the audit log has the reason) and leaves nothing written.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.db import DatabaseError
from django.http import Http404, HttpRequest, HttpResponseBase, HttpResponseRedirect

from .. import audit
from ..errors import Reason
from ..http import (
    is_safe_relative_path,
    landing_path,
    mark_token_response,
    method_not_allowed,
    refused_to_login_page,
)
from ..sessions import start_session
from .flow import VIA, LoginRefused, finish, pending_next, start
from .provider import ProviderUnavailable, is_enabled

# The raw ID token, kept in the session for the provider's logout (``id_token_hint``).
SESSION_ID_TOKEN_KEY = "sso_oidc_id_token"


def _oidc_page(view: Callable[[HttpRequest], HttpResponseBase]) -> Callable[[HttpRequest], HttpResponseBase]:
    """404 unless SSO_OIDC_ISSUER is set; 405 unless GET or HEAD."""

    @wraps(view)
    def page(request: HttpRequest) -> HttpResponseBase:
        if not is_enabled():
            raise Http404
        if request.method not in ("GET", "HEAD"):
            return method_not_allowed("GET", "HEAD")
        return view(request)

    return page


@_oidc_page
def login_view(request: HttpRequest) -> HttpResponseBase:
    """Send the browser to the provider; ``next`` is where it lands afterwards."""
    next_path = landing_path(request)
    try:
        return mark_token_response(start(request, next_path))
    except ProviderUnavailable:
        return _refused(next_path, Reason.PROVIDER_UNAVAILABLE)


@_oidc_page
def callback_view(request: HttpRequest) -> HttpResponseBase:
    """Finish the sign-in the provider sent the browser back from, and log the user in."""
    next_path = pending_next(request)
    if not is_safe_relative_path(next_path):
        next_path = "/"
    try:
        signed_in = finish(request)
        start_session(request, signed_in.user, **{SESSION_ID_TOKEN_KEY: signed_in.id_token})
    except LoginRefused as refused:
        return _refused(next_path, refused.reason)
    except DatabaseError:
        return _refused(next_path, Reason.DATABASE_UNAVAILABLE)
    audit.provider_login_succeeded(user_id=signed_in.user.pk, via=VIA, created=signed_in.created)
    return mark_token_response(HttpResponseRedirect(next_path), Reason.LOGGED_IN)


def _refused(next_path: str, reason: str) -> HttpResponseBase:
    return refused_to_login_page(next_path, reason, via=VIA)
