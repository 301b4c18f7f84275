"""``{% sso_login_panel %}`` and ``{% sso_password_login %}``: what the login page adds and hides."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import template
from django.urls import reverse

from ..conf import sso_settings
from ..errors import login_page_sentence
from ..http import is_safe_relative_path
from ..oidc.provider import is_enabled
from ..oidc.views import ERROR_PARAM

register = template.Library()


@register.inclusion_tag("label_studio_sso/login_panel.html", takes_context=True)
def sso_login_panel(context: Any) -> dict[str, Any]:
    """The "Sign in with …" button and the sentence for a failed sign-in, if any."""
    request = context.get("request")
    query = getattr(request, "GET", {})
    next_path = query.get("next")
    login_url = ""
    if is_enabled():
        login_url = reverse("label_studio_sso_oidc:login")
        if is_safe_relative_path(next_path):
            login_url += "?" + urlencode({"next": next_path})
    return {
        "oidc_enabled": is_enabled(),
        "login_url": login_url,
        "display_name": sso_settings.SSO_OIDC_DISPLAY_NAME,
        "password_login": sso_settings.SSO_PASSWORD_LOGIN,
        "error_sentence": login_page_sentence(query.get(ERROR_PARAM)),
    }


@register.simple_tag
def sso_password_login() -> bool:
    """Whether Label Studio's password form is shown (SSO_PASSWORD_LOGIN)."""
    return bool(sso_settings.SSO_PASSWORD_LOGIN)
