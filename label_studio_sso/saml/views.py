"""``/sso/saml/login/``, ``/sso/saml/acs/`` and ``/sso/saml/metadata/``.

All answer only when SAML is configured (404 otherwise). A sign-in that fails, for any
reason, ends on Label Studio's login page with ``sso_error=<reason>`` (the page shows a
sentence for it; the audit log has the reason) and leaves nothing written.

The provider posts its response from its own site, and a browser sends no SameSite=Lax
cookie (Label Studio's session cookie) with a cross-site POST. The ACS then answers a page
that posts the same fields to itself from this site, where the cookie does go: the session
cookie keeps its SameSite setting, and the response stays bound to the browser that asked.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.db import DatabaseError
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseBase,
    HttpResponseRedirect,
)
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt

from .. import audit
from ..errors import Reason
from ..guards.body_limit import BodyLimit
from ..http import (
    is_safe_relative_path,
    landing_path,
    mark_token_response,
    method_not_allowed,
    refused_to_login_page,
)
from ..sessions import start_session
from .flow import MAX_RESPONSE_CHARS, VIA, LoginRefused, finish, start
from .metadata import MetadataUnavailable, is_enabled
from .service_provider import UnusableHost, service_provider_metadata

REPOSTED_FIELD = "sso_saml_reposted"  # marks the ACS's own re-post, so it happens once
MAX_RELAY_STATE = 2048


def _saml_page(
    *methods: str,
) -> Callable[[Callable[[HttpRequest], HttpResponseBase]], Callable[[HttpRequest], HttpResponseBase]]:
    """404 unless SAML is configured; 405 unless one of ``methods``."""

    def decorate(
        view: Callable[[HttpRequest], HttpResponseBase],
    ) -> Callable[[HttpRequest], HttpResponseBase]:
        @wraps(view)
        def page(request: HttpRequest) -> HttpResponseBase:
            if not is_enabled():
                raise Http404
            if request.method not in methods:
                return method_not_allowed(*methods)
            return view(request)

        return page

    return decorate


@_saml_page("GET", "HEAD")
def login_view(request: HttpRequest) -> HttpResponseBase:
    """Send the browser to the provider with an AuthnRequest; ``next`` is where it lands."""
    next_path = landing_path(request)
    try:
        return mark_token_response(start(request, next_path))
    except MetadataUnavailable:
        return _refused(next_path, Reason.PROVIDER_UNAVAILABLE)
    except UnusableHost:
        return _refused(next_path, Reason.BAD_HOST)


def _refused_unread(request: HttpRequest, status: int) -> HttpResponseBase:
    response = _refused("/", Reason.TOO_LARGE if status == 413 else Reason.MALFORMED)
    response["Connection"] = "close"  # the unread body must not be parsed as the next request
    return response


@csrf_exempt  # the provider's page posts here; the response answers a request of this browser
@_saml_page("POST")
def acs_view(request: HttpRequest) -> HttpResponseBase:
    """Check the provider's response and log its user in (the assertion consumer service)."""
    if settings.SESSION_COOKIE_NAME not in request.COOKIES and not request.POST.get(REPOSTED_FIELD):
        return _repost(request)
    try:
        signed_in = finish(request)
        next_path = signed_in.next_path or _relay_state(request)
        start_session(request, signed_in.user, **signed_in.session_marks)
    except LoginRefused as refused:
        return _refused("/", refused.reason)
    except DatabaseError:
        return _refused("/", Reason.DATABASE_UNAVAILABLE)
    audit.provider_login_succeeded(user_id=signed_in.user.pk, via=VIA, created=signed_in.created)
    return mark_token_response(HttpResponseRedirect(next_path), Reason.LOGGED_IN)


acs_view.body_limit = BodyLimit(MAX_RESPONSE_CHARS + 8 * 1024, _refused_unread)  # type: ignore[attr-defined]
acs_view.signs_in_from_other_sites = True  # type: ignore[attr-defined]  # guards.cross_origin


def _relay_state(request: HttpRequest) -> str:
    """Where a sign-in the provider started lands: its RelayState when that is a path here."""
    relay_state = request.POST.get("RelayState")
    return relay_state if is_safe_relative_path(relay_state) else "/"


def _repost(request: HttpRequest) -> HttpResponseBase:
    """The page that posts the provider's fields again, now from this site (see the docstring)."""
    relay_state = request.POST.get("RelayState", "")
    fields = {
        "SAMLResponse": request.POST.get("SAMLResponse", ""),
        "RelayState": relay_state if len(relay_state) <= MAX_RELAY_STATE else "",
        REPOSTED_FIELD: "1",
    }
    response = render(request, "label_studio_sso/saml_repost.html", {"fields": fields})
    # No session cookie on this page: Label Studio writes into the session of every anonymous
    # request, and a new cookie here would replace the one the re-post must carry.
    request.session.modified = False
    return mark_token_response(response)


@_saml_page("GET", "HEAD")
def metadata_view(request: HttpRequest) -> HttpResponseBase:
    """This service provider's metadata, for the provider's administrator to import."""
    try:
        metadata = service_provider_metadata(request)
    except UnusableHost:
        message = "No SAML metadata for this host name; set LABEL_STUDIO_HOST to Label Studio's public URL.\n"
        return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
    response = HttpResponse(metadata, content_type="application/samlmetadata+xml")
    response["Cache-Control"] = "no-cache"
    return response


def _refused(next_path: str, reason: str) -> HttpResponseBase:
    return refused_to_login_page(next_path, reason, via=VIA)
