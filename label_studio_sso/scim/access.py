"""Who may call SCIM, and how often: the bearer token, and a rate limit per client address.

The token is compared in constant time (both sides hashed first, so not even its length
shows in the timing). The limit counts every request, refused ones included, by the
address of the peer that connected (never ``X-Forwarded-For``, which the caller writes),
in the table every worker and replica share; a guessing client meets 429 long before a
32-character token could be found.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from django.http import HttpRequest
from rest_framework.throttling import SimpleRateThrottle

from ..conf import sso_settings
from ..rate_limits import SharedHistory

_SCHEME = "bearer"


def scim_enabled() -> bool:
    """SCIM answers only while SSO_SCIM_TOKEN is set."""
    return sso_settings.SSO_SCIM_TOKEN is not None


def presents_token(request: HttpRequest) -> bool:
    """Whether the request's ``Authorization: Bearer`` is SSO_SCIM_TOKEN."""
    expected = sso_settings.SSO_SCIM_TOKEN
    scheme, _space, credential = request.META.get("HTTP_AUTHORIZATION", "").strip().partition(" ")
    if expected is None or scheme.lower() != _SCHEME:
        return False
    given = hashlib.sha256(credential.strip().encode("utf-8", "surrogatepass")).digest()
    return hmac.compare_digest(given, hashlib.sha256(expected.encode("ascii")).digest())


class ScimRateThrottle(SharedHistory, SimpleRateThrottle):
    """SSO_SCIM_RATE_LIMIT requests per peer address, through DRF's throttle and the shared cache."""

    scope = "sso_scim"

    def get_rate(self) -> str:
        return sso_settings.SSO_SCIM_RATE_LIMIT

    def get_cache_key(self, request: Any, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": peer_address(request)}


def peer_address(request: HttpRequest) -> str:
    """The address that connected to us (what a trusted reverse proxy's REMOTE_ADDR says)."""
    return request.META.get("REMOTE_ADDR") or "-"


def throttled_for(request: HttpRequest) -> int | None:
    """Seconds to wait when over the limit (counting this request), else None."""
    throttle = ScimRateThrottle()
    if throttle.allow_request(request, None):
        return None
    return max(1, int(throttle.wait() or 1))
