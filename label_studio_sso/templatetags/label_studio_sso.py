"""``{% sso_login_panel %}`` and ``{% sso_password_login %}``: what the login page adds and hides."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import template
from django.urls import reverse

from ..conf import sso_settings
from ..errors import login_page_sentence
from ..http import ERROR_PARAM, is_safe_relative_path
from ..oidc.provider import is_enabled
from ..saml.metadata import is_enabled as saml_is_enabled

register = template.Library()


@register.inclusion_tag("label_studio_sso/login_panel.html", takes_context=True)
def sso_login_panel(context: Any) -> dict[str, Any]:
    """The "Sign in with …" button and the sentence for a failed sign-in, if any."""
    request = context.get("request")
    query = getattr(request, "GET", {})
    next_path = query.get("next")
    query_string = "?" + urlencode({"next": next_path}) if is_safe_relative_path(next_path) else ""
    login_url = reverse("label_studio_sso_oidc:login") + query_string if is_enabled() else ""
    saml_login_url = reverse("label_studio_sso_saml:login") + query_string if saml_is_enabled() else ""
    return {
        "oidc_enabled": is_enabled(),
        "login_url": login_url,
        "display_name": sso_settings.SSO_OIDC_DISPLAY_NAME,
        "saml_enabled": saml_is_enabled(),
        "saml_login_url": saml_login_url,
        "saml_display_name": sso_settings.SSO_SAML_DISPLAY_NAME,
        "password_login": sso_settings.SSO_PASSWORD_LOGIN,
        "error_sentence": login_page_sentence(query.get(ERROR_PARAM)),
    }


@register.simple_tag
def sso_password_login() -> bool:
    """Whether Label Studio's password form is shown (SSO_PASSWORD_LOGIN)."""
    return bool(sso_settings.SSO_PASSWORD_LOGIN)
