"""Log a browser in as a user (switching users cleanly), or out.

Every way in ends here, so a session it starts is an ordinary Label Studio session:
Django's ``login()`` cycles the session key (or flushes another user's session), and the
``last_login`` stamp keeps Label Studio's inactivity timeout from ending it at once.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.contrib import auth
from django.db import DatabaseError
from django.http import HttpRequest

from .accounts import ensure_active_organization

# The 6.x path, which existing sessions have stored as their backend: it must keep importing.
BACKEND_PATH = "label_studio_sso.backends.JWTAuthenticationBackend"
# Label Studio's InactivitySessionTimeoutMiddleWare logs a session out unless this is set.
SESSION_LAST_LOGIN_KEY = "last_login"


def start_session(request: HttpRequest, user: Any, **marks: Any) -> None:
    """Log ``user`` in on this browser; ``marks`` are stored in the new session."""
    ensure_active_organization(user)
    auth.login(request, user, backend=BACKEND_PATH)
    request.session[SESSION_LAST_LOGIN_KEY] = time.time()
    request.session.update(marks)


def logged_in_user(request: HttpRequest) -> Any:
    """The request's authenticated user, or None."""
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


@contextmanager
def restored_on_database_error(request: HttpRequest) -> Iterator[None]:
    """If the database fails inside, put the session and the request's user back as they were."""
    previous_user = getattr(request, "user", None)
    previous_data = dict(request.session.items())
    try:
        yield
    except DatabaseError:
        request.session.clear()
        request.session.update(previous_data)
        if previous_user is not None:
            request.user = previous_user
        raise


def end_session(request: HttpRequest) -> None:
    """Log this browser out (its session data is flushed)."""
    auth.logout(request)
