"""Django system checks: wrong values, missing pieces, pieces in the wrong order."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Warning, register
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from . import middleware as public_middleware
from .combinations import combination_problems
from .conf import RATE_LIMIT_CACHE, RATE_LIMIT_TABLE, invalid_settings, sso_settings
from .portal.keys import derive_key
from .releases import SUPPORTED_RANGE, installed_label_studio, unsupported_release
from .sessions import BACKEND_PATH

LOGIN_MIDDLEWARE = "label_studio_sso.middleware.JWTAutoLoginMiddleware"
ORIGIN_MIDDLEWARE = "label_studio_sso.middleware.CrossOriginWriteMiddleware"
FRAMING_MIDDLEWARE = "label_studio_sso.middleware.FrameAncestorsMiddleware"
ENDED_SESSION_MIDDLEWARE = "label_studio_sso.middleware.EndedSessionMiddleware"
SESSION_GUARDS = (ENDED_SESSION_MIDDLEWARE, LOGIN_MIDDLEWARE)  # either checks sessions
AUTH_MIDDLEWARE = "django.contrib.auth.middleware.AuthenticationMiddleware"
SESSION_MIDDLEWARE = "django.contrib.sessions.middleware.SessionMiddleware"
LABEL_STUDIO_JWT_MIDDLEWARE = "jwt_auth.middleware.JWTAuthenticationMiddleware"


@register()
def check_setting_values(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """E001: every SSO setting has an allowed value."""
    return [
        Error(str(problem), hint=f"Set {problem.name} to {problem.allowed}.", id="label_studio_sso.E001")
        for problem in invalid_settings(settings)
    ]


@register()
def check_backend(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """E002: the backend must be listed, or SSO sessions cannot load their user."""
    if BACKEND_PATH in settings.AUTHENTICATION_BACKENDS:
        return []
    return [
        Error(
            f"{BACKEND_PATH} is not in AUTHENTICATION_BACKENDS.",
            hint="Append it to AUTHENTICATION_BACKENDS.",
            id="label_studio_sso.E002",
        )
    ]


@register()
def check_middleware(app_configs: Any = None, **kwargs: Any) -> list[Error | Warning]:
    """E003-E006, E008, W001, W003: the middleware is present and after what it depends on."""
    middleware = [_public_name(item) for item in settings.MIDDLEWARE]
    after_auth = f"Add it right after {AUTH_MIDDLEWARE}."
    problems: list[Error | Warning] = []
    if LOGIN_MIDDLEWARE not in middleware:
        if _enabled("JWT_SSO_COOKIE_NAME") or _enabled("JWT_SSO_TOKEN_PARAM"):
            message = f"{LOGIN_MIDDLEWARE} is not in MIDDLEWARE: cookie and URL logins cannot work."
            problems.append(Error(message, hint=after_auth, id="label_studio_sso.E003"))
    elif not _placed_after(middleware, LOGIN_MIDDLEWARE, AUTH_MIDDLEWARE):
        message = f"{LOGIN_MIDDLEWARE} must come after {AUTH_MIDDLEWARE}."
        problems.append(Error(message, hint=after_auth, id="label_studio_sso.E004"))
    if ORIGIN_MIDDLEWARE not in middleware:
        message = (
            f"{ORIGIN_MIDDLEWARE} is not in MIDDLEWARE: cross-site writes with a session are not refused."
        )
        problems.append(Warning(message, hint=after_auth, id="label_studio_sso.W001"))
    elif not _placed_after(middleware, ORIGIN_MIDDLEWARE, SESSION_MIDDLEWARE):
        message = f"{ORIGIN_MIDDLEWARE} must come after {SESSION_MIDDLEWARE}."
        problems.append(Error(message, hint=after_auth, id="label_studio_sso.E005"))
    elif LABEL_STUDIO_JWT_MIDDLEWARE in middleware and not _placed_after(
        middleware, ORIGIN_MIDDLEWARE, LABEL_STUDIO_JWT_MIDDLEWARE
    ):
        message = (
            f"{ORIGIN_MIDDLEWARE} comes before {LABEL_STUDIO_JWT_MIDDLEWARE}: writes authenticated by a "
            "Bearer access token that also carry a session cookie are judged by the session's origin."
        )
        hint = f"Move it right after {LABEL_STUDIO_JWT_MIDDLEWARE}."
        problems.append(Warning(message, hint=hint, id="label_studio_sso.W003"))
    if not any(_placed_after(middleware, guard, AUTH_MIDDLEWARE) for guard in SESSION_GUARDS):
        message = (
            f"Neither {ENDED_SESSION_MIDDLEWARE} nor {LOGIN_MIDDLEWARE} comes after {AUTH_MIDDLEWARE}: "
            "ended sessions (the logout API, logouts, deactivated users) would still be accepted."
        )
        problems.append(Error(message, hint=after_auth, id="label_studio_sso.E008"))
    if _enabled("SSO_FRAME_ANCESTORS") and FRAMING_MIDDLEWARE not in middleware:
        message = f"SSO_FRAME_ANCESTORS is set but {FRAMING_MIDDLEWARE} is not in MIDDLEWARE."
        problems.append(Error(message, hint="Add it first in MIDDLEWARE.", id="label_studio_sso.E006"))
    return problems


def _public_name(path: str) -> str:
    """Our middleware under its public name however the settings spell its path."""
    if not path.startswith("label_studio_sso."):
        return path
    try:
        found = import_string(path)
    except ImportError:
        return path
    name = getattr(found, "__name__", "")
    return f"{public_middleware.__name__}.{name}" if getattr(public_middleware, name, None) is found else path


def _placed_after(middleware: list[str], item: str, anchor: str) -> bool:
    return item in middleware and anchor in middleware and middleware.index(item) > middleware.index(anchor)


@register()
def check_signing_key(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """E007: login tokens never share a key with Label Studio's own JWTs."""
    try:
        configured = sso_settings.SSO_SIGNING_KEY
    except ImproperlyConfigured:  # reported by E001
        return []
    django_keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", ())]
    raw = {key.encode("utf-8") if isinstance(key, str) else key for key in django_keys}
    if configured is None or (
        configured not in raw and configured not in {derive_key(key) for key in django_keys}
    ):
        return []
    return [
        Error(
            "SSO_SIGNING_KEY must not be SECRET_KEY (Label Studio signs its own API tokens with it).",
            hint="Generate a separate secret: python -c 'import secrets; print(secrets.token_urlsafe(48))'.",
            id="label_studio_sso.E007",
        )
    ]


def _enabled(name: str) -> bool:
    try:
        return bool(getattr(sso_settings, name))
    except ImproperlyConfigured:  # reported by E001
        return False


@register()
def check_rate_limit_store(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    """W002: without a shared cache the rate limit is per process (N workers: N times it)."""
    if RATE_LIMIT_CACHE in settings.CACHES:
        return []
    message = (
        f"CACHES has no {RATE_LIMIT_CACHE!r} entry: the token API's rate limit is kept in the "
        "default cache, which is per process unless you configured a shared one."
    )
    hint = (
        f"Add CACHES[{RATE_LIMIT_CACHE!r}] = {{'BACKEND': 'django.core.cache.backends.db.DatabaseCache', "
        f"'LOCATION': {RATE_LIMIT_TABLE!r}}} (the table is created by this app's migrations)."
    )
    return [Warning(message, hint=hint, id="label_studio_sso.W002")]


PASSWORD_SWITCH = "label_studio_sso.password_login.PasswordLoginSwitch"
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


@register()
def check_openid_connect(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """E010: an issuer needs the OpenID Connect routes in the URLconf (E009 is a combination rule)."""
    from django.urls import NoReverseMatch, reverse

    try:
        issuer = sso_settings.SSO_OIDC_ISSUER
    except ImproperlyConfigured:  # reported by E001
        return []
    if issuer is None:
        return []
    problems = []
    try:
        reverse("label_studio_sso_oidc:callback")
    except NoReverseMatch:
        problems.append(
            Error(
                "SSO_OIDC_ISSUER is set but the URLconf has no OpenID Connect routes.",
                hint='Add path("sso/oidc/", include("label_studio_sso.oidc.urls")) to the URLconf.',
                id="label_studio_sso.E010",
            )
        )
    return problems


@register()
def check_password_switch(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """E011: with SSO_PASSWORD_LOGIN=false the switch must come before any password backend."""
    try:
        password_login = sso_settings.SSO_PASSWORD_LOGIN
    except ImproperlyConfigured:  # reported by E001
        return []
    backends = list(settings.AUTHENTICATION_BACKENDS)
    if password_login or (
        PASSWORD_SWITCH in backends
        and (MODEL_BACKEND not in backends or backends.index(PASSWORD_SWITCH) < backends.index(MODEL_BACKEND))
    ):
        return []
    return [
        Error(
            f"SSO_PASSWORD_LOGIN is false but {PASSWORD_SWITCH} is not before {MODEL_BACKEND} "
            "in AUTHENTICATION_BACKENDS: passwords would still sign people in.",
            hint=f"Put {PASSWORD_SWITCH} first in AUTHENTICATION_BACKENDS.",
            id="label_studio_sso.E011",
        )
    ]


GATEWAY_MIDDLEWARE = "label_studio_sso.middleware.TrustedGatewayMiddleware"


@register()
def check_combinations(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """E009, E012-E014, E018: settings that work only together (combinations.py); E015: gateway middleware."""
    try:
        problems = combination_problems(lambda name: getattr(sso_settings, name))
    except ImproperlyConfigured:  # reported by E001
        return []
    errors = [Error(message, hint=hint, id=f"label_studio_sso.{code}") for code, message, hint in problems]
    middleware = [_public_name(item) for item in settings.MIDDLEWARE]
    if (_enabled("SSO_PROXY_EMAIL_HEADER") or _enabled("SSO_PROXY_JWT_HEADER")) and not _placed_after(
        middleware, GATEWAY_MIDDLEWARE, AUTH_MIDDLEWARE
    ):
        errors.append(
            Error(
                f"A gateway header is set but {GATEWAY_MIDDLEWARE} is not in MIDDLEWARE after "
                f"{AUTH_MIDDLEWARE}.",
                hint=f"Add it right after {AUTH_MIDDLEWARE}.",
                id="label_studio_sso.E015",
            )
        )
    return errors


@register()
def check_scim(app_configs: Any = None, **kwargs: Any) -> list[Error | Warning]:
    """E016, W004: SCIM needs its routes; without SSO_CREATE_USERS it cannot create users."""
    from django.urls import NoReverseMatch, reverse

    try:
        token, create_users = sso_settings.SSO_SCIM_TOKEN, sso_settings.SSO_CREATE_USERS
    except ImproperlyConfigured:  # reported by E001
        return []
    if token is None:
        return []
    problems: list[Error | Warning] = []
    try:
        routed = reverse("label_studio_sso_scim:users") == "/scim/v2/Users"
    except NoReverseMatch:
        routed = False
    if not routed:
        problems.append(
            Error(
                "SSO_SCIM_TOKEN is set but the URLconf does not serve SCIM at /scim/v2/.",
                hint='Add path("scim/v2/", include("label_studio_sso.scim.urls")) to the URLconf.',
                id="label_studio_sso.E016",
            )
        )
    if not create_users:
        problems.append(
            Warning(
                "SSO_SCIM_TOKEN is set without SSO_CREATE_USERS: SCIM can update and deactivate users "
                "but every create (POST /Users) is refused.",
                hint="Set SSO_CREATE_USERS=true to let the identity provider create users.",
                id="label_studio_sso.W004",
            )
        )
    return problems


@register()
def check_label_studio_release(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """E017: the installed Label Studio is a release this package supports and was tested on."""
    problem = unsupported_release(installed_label_studio())
    if problem is None:
        return []
    return [
        Error(
            f"{problem}.",
            hint=f"Install a Label Studio release from {SUPPORTED_RANGE}, or a label-studio-sso that "
            "supports this one.",
            id="label_studio_sso.E017",
        )
    ]
