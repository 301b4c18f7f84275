"""The backend every SSO session is loaded with, whichever way in the user came by.

It subclasses BaseBackend, not ModelBackend: a ModelBackend in the backend list adds
permission queries to every permission check, and Label Studio's own ModelBackend
already answers those.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import BaseBackend

from .sessions import user_with_stamp


class SessionBackend(BaseBackend):
    """Restores the user of a session; authenticates nothing itself."""

    def get_user(self, user_id: Any) -> Any:
        """The session's user if it still exists and is active; inactive users get no UI.

        Loaded with the user's session stamp in the same query (every session, password
        logins too, is routed here when it begins), so checking whether the session was
        ended costs no query of its own.
        """
        user = user_with_stamp(user_id)
        return user if user is not None and user.is_active else None
