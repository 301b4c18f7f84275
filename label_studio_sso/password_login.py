"""SSO_PASSWORD_LOGIN=false: Label Studio's passwords stop signing anyone in, and sign-up closes.

Every password check in Label Studio goes through Django's ``authenticate()`` (its login
form, the Django admin's, the REST framework's): ``PasswordLoginSwitch``, first in
AUTHENTICATION_BACKENDS, answers a password attempt with PermissionDenied, which makes
``authenticate()`` stop and fail. Sign-up logs a new user in without ``authenticate()``,
so its page is refused here too. The break-glass path when the identity provider is
down is ``manage.py sso_login_url`` (a single-use login link from the server's shell), or
SSO_PASSWORD_LOGIN=true and a restart.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBase, HttpResponseForbidden

from . import audit
from .conf import sso_settings
from .errors import Reason
from .http import landing_path


class PasswordLoginSwitch:
    """An authentication backend that refuses password attempts while password login is off."""

    def authenticate(self, request: HttpRequest | None, **credentials: Any) -> None:
        if "password" in credentials and not sso_settings.SSO_PASSWORD_LOGIN:
            audit.login_refused(reason=Reason.PASSWORD_LOGIN_OFF, transport="password")
            raise PermissionDenied
        return None

    def get_user(self, user_id: Any) -> None:
        return None


def signup_view(request: HttpRequest) -> HttpResponseBase:
    """Label Studio's sign-up page, or, with password login off, the login page (403 to a POST)."""
    if sso_settings.SSO_PASSWORD_LOGIN:
        from users.views import user_signup

        return user_signup(request)
    audit.login_refused(reason=Reason.PASSWORD_LOGIN_OFF, transport="signup")
    if request.method in ("GET", "HEAD"):
        return redirect_to_login(landing_path(request))
    return HttpResponseForbidden("Sign-up is switched off: sign in with your identity provider.")
