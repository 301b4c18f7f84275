"""Where every rate limit keeps its history: one cache every worker and replica shares.

Label Studio configures no shared cache, so Django's default one lives in each process: N
gunicorn workers would allow N times a limit. The overlay points the RATE_LIMIT_CACHE alias at
a DatabaseCache (the ``label_studio_sso_rate_limit`` table); without it, Django's default cache.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.cache import caches

from .conf import RATE_LIMIT_CACHE


class SharedHistory:
    """A DRF throttle mixin: the request history lives in the shared rate-limit cache."""

    @property
    def cache(self) -> Any:  # DRF reads self.cache
        return caches[RATE_LIMIT_CACHE] if RATE_LIMIT_CACHE in settings.CACHES else caches["default"]
