"""Refuse a session that was ended: its stamp is no longer its user's (see ``sessions``).

Placed right after Django's AuthenticationMiddleware, it wraps the lazy ``request.user``
so the check runs when something first asks who the user is, on the user Django loaded
anyway: no query of its own for sessions that began under this app. A session that began
before it (Label Studio's own backend loaded its user) costs one query, once: it is then
routed to the backend that loads the stamp with the user.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.middleware import get_user as session_user
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponseBase
from django.utils.functional import SimpleLazyObject

from .. import audit
from ..sessions import route_to_stamp_backend, session_is_current

_GUARDED = "_sso_ended_sessions_guarded"


class EndedSessionMiddleware:
    """An ended session makes its request anonymous, and the session is flushed."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        guard_request(request)
        return self.get_response(request)


def guard_request(request: HttpRequest) -> None:
    """Check the session when ``request.user`` is first asked for; once per request.

    JWTAutoLoginMiddleware calls this too, so a settings file written for label-studio-sso
    6.x (which names only that middleware) gets ended sessions refused without an edit.
    """
    if hasattr(request, "session") and hasattr(request, "user") and not getattr(request, _GUARDED, False):
        setattr(request, _GUARDED, True)
        request.user = SimpleLazyObject(lambda: checked_user(request))


def checked_user(request: HttpRequest) -> Any:
    """The session's user, or AnonymousUser when that session was ended."""
    user = session_user(request)
    if not user.is_authenticated:
        return user
    if not session_is_current(request, user):
        audit.session_refused(user_id=user.pk)
        request.session.flush()
        request._cached_user = AnonymousUser()
        return request._cached_user
    route_to_stamp_backend(request)  # a session from before: from now on, stamp and user in one query
    return user
