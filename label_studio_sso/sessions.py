"""Log a browser in as a user (switching users cleanly) or out, and end every session of a user.

Every way in ends here, so a session it starts is an ordinary Label Studio session:
Django's ``login()`` cycles the session key (or flushes another user's session), and the
``last_login`` stamp keeps Label Studio's inactivity timeout from ending it at once.

Label Studio keeps sessions in signed cookies: the server holds no row it could delete.
So each session records its user's *stamp* when it begins (``SESSION_STAMP_KEY``), and
ending every session of a user gives them a new stamp (``end_every_session``); a session
whose stamp is no longer its user's is refused on its next request. The stamp is read in
the same query that loads the session's user (``user_with_stamp``, which the backend's
``get_user`` uses).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.contrib import auth
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connections, router
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from .accounts import ensure_active_organization

# The 6.x path, which existing sessions have stored as their backend: it must keep importing.
BACKEND_PATH = "label_studio_sso.backends.JWTAuthenticationBackend"
# Label Studio's InactivitySessionTimeoutMiddleWare logs a session out unless this is set.
SESSION_LAST_LOGIN_KEY = "last_login"
# The user's stamp when this session began; a session without one began with the empty stamp.
SESSION_STAMP_KEY = "sso_session_stamp"
# The attribute a user loaded by user_with_stamp carries its stamp in (None: no row yet).
_LOADED_STAMP = "_sso_loaded_stamp"
# Set on a request whose logout ends only this browser's session (a user switch).
_THIS_SESSION_ONLY = "_sso_end_this_session_only"


def start_session(request: HttpRequest, user: Any, **marks: Any) -> None:
    """Log ``user`` in on this browser; ``marks`` are stored in the new session."""
    ensure_active_organization(user)
    _ensure_session_policy(user)
    auth.login(request, user, backend=BACKEND_PATH)
    request.session[SESSION_LAST_LOGIN_KEY] = time.time()
    request.session.update(marks)


def _ensure_session_policy(user: Any) -> None:
    """Make the organization's session policy row now, inside the login's transaction.

    Label Studio creates it on the first request that reads it, with a read followed by a
    write; on SQLite, while another login holds the write lock, that write is refused at
    once, outside any transaction we could run again. Reading it here moves that write
    into the login's transaction (``transactions.in_one_transaction``), which is.
    """
    organization = getattr(user, "active_organization", None)
    if organization is not None:
        getattr(organization, "session_timeout_policy", None)  # Label Studio's AutoOneToOneField


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
    """Log this browser out (its session data is flushed); the user's other sessions go on."""
    setattr(request, _THIS_SESSION_ONLY, True)
    auth.logout(request)


def ends_every_session(request: HttpRequest | None) -> bool:
    """Whether a logout on this request ends all of its user's sessions (not a user switch)."""
    return not getattr(request, _THIS_SESSION_ONLY, False)


def user_with_stamp(user_id: Any) -> Any:
    """The user with this primary key, loaded with their stamp in one query; None if none.

    One hand-built ``SELECT … LEFT OUTER JOIN`` through Django's ``raw()`` (which applies
    the model's field converters): the ORM's own ``select_related`` query costs twice as
    long to build as ModelBackend's whole look-up, and this runs on every request.
    """
    model = get_user_model()
    try:
        pk = model._meta.pk.to_python(user_id)
    except (TypeError, ValueError, ValidationError):
        return None
    if pk is None:
        return None
    alias = router.db_for_read(model)
    found = list(model._default_manager.db_manager(alias).raw(_stamped_user_sql(alias), [pk]))
    return found[0] if found else None


@lru_cache(maxsize=8)
def _stamped_user_sql(alias: str) -> str:
    from .models import SessionStamp

    quote = connections[alias].ops.quote_name
    users, pk = quote(get_user_model()._meta.db_table), quote(get_user_model()._meta.pk.column)
    stamps = quote(SessionStamp._meta.db_table)
    owner, stamp = quote(SessionStamp._meta.get_field("user").column), quote("stamp")
    return (  # names from the models' metadata, quoted by the database; the id is a parameter
        f"SELECT {users}.*, {stamps}.{stamp} AS {quote(_LOADED_STAMP)} FROM {users} "  # noqa: S608
        f"LEFT OUTER JOIN {stamps} ON {stamps}.{owner} = {users}.{pk} WHERE {users}.{pk} = %s"
    )


def current_stamp(user: Any) -> str:
    """The user's stamp; free when the user was loaded with it (``user_with_stamp``)."""
    from .models import SessionStamp

    if hasattr(user, _LOADED_STAMP):
        return getattr(user, _LOADED_STAMP) or ""
    try:
        return user.sso_session_stamp.stamp
    except SessionStamp.DoesNotExist:
        return ""


def stamp_session(request: HttpRequest, user: Any) -> None:
    """Record the user's current stamp in a session that has just begun."""
    request.session[SESSION_STAMP_KEY] = current_stamp(user)
    route_to_stamp_backend(request)


def route_to_stamp_backend(request: HttpRequest) -> None:
    """Have the session's user loaded by our backend, whose get_user reads the stamp for free."""
    if (
        request.session.get(auth.BACKEND_SESSION_KEY) != BACKEND_PATH
        and BACKEND_PATH in settings.AUTHENTICATION_BACKENDS
    ):
        request.session[auth.BACKEND_SESSION_KEY] = BACKEND_PATH


def session_is_current(request: HttpRequest, user: Any) -> bool:
    """False when the user's sessions were ended after this one began."""
    return constant_time_compare(request.session.get(SESSION_STAMP_KEY, ""), current_stamp(user))


def end_every_session(user: Any) -> datetime:
    """Give the user a new stamp: each of their sessions is refused on its next request.

    One row write, seen by every worker and replica at once. Returns when it happened.
    """
    from .models import SessionStamp

    now = timezone.now()
    stamp, _created = SessionStamp.objects.update_or_create(
        user_id=user.pk, defaults={"stamp": secrets.token_hex(16), "changed_at": now}
    )
    user.sso_session_stamp = stamp
    setattr(user, _LOADED_STAMP, stamp.stamp)
    return now
