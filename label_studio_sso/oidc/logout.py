"""Label Studio's ``/logout``, then the provider's logout (RP-initiated logout).

A session that began at the provider keeps its ID token; logging out of Label Studio
first does everything Label Studio's own logout does (every session of the user ends,
``session_signals``), then sends the browser to the provider's ``end_session_endpoint``
with that token as ``id_token_hint`` and Label Studio's login page as
``post_logout_redirect_uri`` (register it at the provider). A provider without the
endpoint, or one that cannot be reached, leaves the logout as Label Studio's alone.
"""

from __future__ import annotations

import requests
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase, HttpResponseRedirect

from ..http import mark_token_response
from ..origins import public_origin
from .provider import ProviderUnavailable, is_enabled, provider_client
from .views import SESSION_ID_TOKEN_KEY


def logout_view(request: HttpRequest) -> HttpResponseBase:
    """Label Studio's logout view, followed by the provider's logout where there is one."""
    from users.views import logout as label_studio_logout

    session = getattr(request, "session", None)
    id_token = session.get(SESSION_ID_TOKEN_KEY) if session is not None else None
    response = label_studio_logout(request)
    if not isinstance(id_token, str) or not is_enabled():
        return response
    try:
        client = provider_client()
        if not client.load_server_metadata().get("end_session_endpoint"):
            return response
        logout = client.create_logout_url(
            post_logout_redirect_uri=public_origin(request) + settings.LOGIN_URL,
            id_token_hint=id_token,
            client_id=client.client_id,
        )
    except (requests.RequestException, ProviderUnavailable, ValueError, KeyError, TypeError, RuntimeError):
        return response
    return mark_token_response(HttpResponseRedirect(logout["url"]))
