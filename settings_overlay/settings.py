"""DJANGO_SETTINGS_MODULE=settings_overlay.settings: Label Studio plus label-studio-sso.

Everything Label Studio configures stays as Label Studio configures it; this module
only adds the app, its middleware and backend, its URLs and its logging, and reads
the SSO_* / JWT_SSO_* environment variables through the package's own validation.
"""

import os

from label_studio_sso.conf import (
    RATE_LIMIT_CACHE,
    RATE_LIMIT_TABLE,
    SSO_TEMPLATES_DIR,
    log_level_from_environment,
    read_environment,
)
from label_studio_sso.releases import latest_version_check
from settings_overlay.label_studio_import import apply_quiet_defaults, label_studio_settings_importable

apply_quiet_defaults()

with label_studio_settings_importable():
    from core.settings.label_studio import *  # noqa: F403

LATEST_VERSION_CHECK = latest_version_check()  # 1.20 and 1.21 hard-code True
globals().update(read_environment(os.environ))

_AUTH_MIDDLEWARE = "django.contrib.auth.middleware.AuthenticationMiddleware"
_LS_JWT_MIDDLEWARE = "jwt_auth.middleware.JWTAuthenticationMiddleware"

INSTALLED_APPS = [*INSTALLED_APPS, "label_studio_sso"]  # noqa: F405

_after_auth = MIDDLEWARE.index(_AUTH_MIDDLEWARE) + 1  # noqa: F405
MIDDLEWARE = [
    "label_studio_sso.middleware.FrameRoomMiddleware",  # outermost: the whole request in one frame
    "label_studio_sso.middleware.TokenApiBodyLimitMiddleware",  # before anything reads a body
    "label_studio_sso.middleware.FrameAncestorsMiddleware",
    *MIDDLEWARE[:_after_auth],  # noqa: F405
    "label_studio_sso.middleware.EndedSessionMiddleware",  # before anything asks who the user is
    "label_studio_sso.middleware.TrustedGatewayMiddleware",  # does nothing without a gateway header set
    "label_studio_sso.middleware.JWTAutoLoginMiddleware",
    *MIDDLEWARE[_after_auth:],  # noqa: F405
]
# After Label Studio's Bearer-token middleware, so token-authenticated writes are seen as such.
_after_ls_jwt = MIDDLEWARE.index(_LS_JWT_MIDDLEWARE) + 1 if _LS_JWT_MIDDLEWARE in MIDDLEWARE else _after_auth
MIDDLEWARE.insert(_after_ls_jwt, "label_studio_sso.middleware.CrossOriginWriteMiddleware")

# First: with SSO_PASSWORD_LOGIN=false it stops every password attempt before ModelBackend sees it.
AUTHENTICATION_BACKENDS = [
    "label_studio_sso.password_login.PasswordLoginSwitch",
    *AUTHENTICATION_BACKENDS,  # noqa: F405
    "label_studio_sso.backends.JWTAuthenticationBackend",
]

# Label Studio's login page, extended (not copied) by ours: found before Label Studio's own.
TEMPLATES[0]["DIRS"] = [  # noqa: F405
    SSO_TEMPLATES_DIR,
    *TEMPLATES[0]["DIRS"],  # noqa: F405
]

ROOT_URLCONF = "settings_overlay.urls"

# The token API's rate limit, shared by every worker and replica through the database
# (Label Studio's own cache stays as it is: per process).
CACHES = {
    **globals().get("CACHES", {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}),
    RATE_LIMIT_CACHE: {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": RATE_LIMIT_TABLE,
        "OPTIONS": {"MAX_ENTRIES": 100_000},
    },
}

LOGGING["filters"] = {  # noqa: F405
    **LOGGING.get("filters", {}),  # noqa: F405
    "redact_sso_tokens": {"()": "label_studio_sso.redaction.RedactTokensFilter"},
}
for _handler in LOGGING["handlers"].values():  # noqa: F405
    _handler["filters"] = [*_handler.get("filters", []), "redact_sso_tokens"]
LOGGING["loggers"]["label_studio_sso"] = {"level": log_level_from_environment("SSO_LOG_LEVEL")}  # noqa: F405
LOGGING["loggers"]["label_studio_sso.audit"] = {  # noqa: F405
    "level": log_level_from_environment("SSO_AUDIT_LOG_LEVEL")
}
# Django's development server logs full request lines; send them through the filter too.
LOGGING["loggers"]["django.server"] = {  # noqa: F405
    "handlers": ["console"],
    "level": "INFO",
    "filters": ["redact_sso_tokens"],
    "propagate": False,
}
