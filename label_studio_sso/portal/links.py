"""The login link a portal hands out: ``/api/sso/login?token=…&next=…`` on the public origin."""

from __future__ import annotations

from urllib.parse import urlencode

from django.urls import reverse

LOGIN_TOKEN_PARAM = "token"


def login_url(origin: str, token: str, next_path: str | None = None) -> str:
    """The absolute ``/api/sso/login`` URL that redeems ``token`` and lands on ``next_path``."""
    query = {LOGIN_TOKEN_PARAM: token}
    if next_path:
        query["next"] = next_path
    return f"{origin}{reverse('label_studio_sso:login')}?{urlencode(query)}"
