"""The settings overlay: Label Studio's settings untouched, ours layered on, env validated."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

from django.conf import settings

from label_studio_sso.conf import SSO_TEMPLATES_DIR
from settings_overlay.label_studio_import import apply_quiet_defaults, label_studio_directory
from tests.support.label_studio import BASE_ENV
from tests.support.repository import REPO

OURS = {
    "label_studio_sso",
    "label_studio_sso.middleware.FrameRoomMiddleware",
    "label_studio_sso.middleware.TokenApiBodyLimitMiddleware",
    "label_studio_sso.middleware.FrameAncestorsMiddleware",
    "label_studio_sso.middleware.CrossOriginWriteMiddleware",
    "label_studio_sso.middleware.EndedSessionMiddleware",
    "label_studio_sso.middleware.TrustedGatewayMiddleware",
    "label_studio_sso.middleware.JWTAutoLoginMiddleware",
    "label_studio_sso.backends.JWTAuthenticationBackend",
    "label_studio_sso.password_login.PasswordLoginSwitch",
}
PROBE = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({'module': s.SETTINGS_MODULE, 'apps': s.INSTALLED_APPS, 'middleware': s.MIDDLEWARE, "
    "'backends': s.AUTHENTICATION_BACKENDS, 'expiry': getattr(s, 'SSO_TOKEN_EXPIRY', None), "
    "'templates': s.TEMPLATES[0]['DIRS'], 'sentry': s.SENTRY_DSN, 'analytics': s.COLLECT_ANALYTICS, "
    "'secret': s.SECRET_KEY[:6]}))"
)


def probe(settings_module: str, tmp_path: Any, **env: str) -> subprocess.CompletedProcess[str]:
    """Start Django in a fresh interpreter, as Label Studio's manage.py does, and report."""
    environment = {
        **os.environ,
        **BASE_ENV,
        "DJANGO_SETTINGS_MODULE": settings_module,
        "LABEL_STUDIO_BASE_DATA_DIR": str(tmp_path),
        **env,
    }
    return subprocess.run(
        [sys.executable, "-c", f"import sys; sys.path.insert(0, {label_studio_directory()!r}); {PROBE}"],
        env=environment,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_overlay_adds_only_our_pieces_to_label_studios_own_settings(tmp_path: Any) -> None:
    vanilla = probe("core.settings.label_studio", tmp_path / "vanilla")
    overlay = probe("settings_overlay.settings", tmp_path / "overlay", SSO_TOKEN_EXPIRY="120")
    assert vanilla.returncode == 0, vanilla.stderr[-2000:]
    assert overlay.returncode == 0, overlay.stderr[-2000:]
    plain, layered = json.loads(vanilla.stdout.splitlines()[-1]), json.loads(overlay.stdout.splitlines()[-1])

    assert layered["module"] == "settings_overlay.settings"
    for name in ("apps", "middleware", "backends"):
        assert [item for item in layered[name] if item not in OURS] == plain[name]
    assert layered["backends"][0] == "label_studio_sso.password_login.PasswordLoginSwitch"
    assert layered["templates"] == [SSO_TEMPLATES_DIR, *plain["templates"]]
    assert layered["expiry"] == 120
    assert layered["secret"] == plain["secret"]


def test_our_middleware_sits_after_what_each_one_depends_on() -> None:
    middleware = settings.MIDDLEWARE
    auth = middleware.index("django.contrib.auth.middleware.AuthenticationMiddleware")
    bearer = middleware.index("jwt_auth.middleware.JWTAuthenticationMiddleware")
    assert middleware[:3] == [
        "label_studio_sso.middleware.FrameRoomMiddleware",
        "label_studio_sso.middleware.TokenApiBodyLimitMiddleware",
        "label_studio_sso.middleware.FrameAncestorsMiddleware",
    ]
    assert middleware[auth + 1 : auth + 4] == [
        "label_studio_sso.middleware.EndedSessionMiddleware",
        "label_studio_sso.middleware.TrustedGatewayMiddleware",
        "label_studio_sso.middleware.JWTAutoLoginMiddleware",
    ]
    assert middleware[bearer + 1] == "label_studio_sso.middleware.CrossOriginWriteMiddleware"


def test_a_bad_environment_variable_stops_start_up_with_one_line_naming_it(tmp_path: Any) -> None:
    result = probe("settings_overlay.settings", tmp_path, SSO_TOKEN_EXPIRY="5", SSO_SIGNING_KEY="tiny-secret")
    assert result.returncode != 0
    assert "SSO_TOKEN_EXPIRY='5' is not allowed: whole seconds from 10 to 86400" in result.stderr


def test_a_short_signing_key_is_named_but_never_shown(tmp_path: Any) -> None:
    result = probe("settings_overlay.settings", tmp_path, SSO_SIGNING_KEY="tiny-secret")
    assert result.returncode != 0
    assert "SSO_SIGNING_KEY='****' (11 chars) is not allowed" in result.stderr
    assert "tiny-secret" not in result.stderr


def test_the_overlay_phones_nowhere_by_default_but_respects_an_explicit_choice(tmp_path: Any) -> None:
    assert (
        settings.SENTRY_DSN,
        settings.FRONTEND_SENTRY_DSN,
        settings.LATEST_VERSION_CHECK,
        settings.COLLECT_ANALYTICS,
    ) == ("", "", False, False)
    environ = {"LABEL_STUDIO_COLLECT_ANALYTICS": "true"}
    apply_quiet_defaults(environ)
    assert environ == {
        "LABEL_STUDIO_COLLECT_ANALYTICS": "true",
        "SENTRY_DSN": "",
        "FRONTEND_SENTRY_DSN": "",
        "LATEST_VERSION_CHECK": "false",
    }


def test_the_overlay_urls_put_sso_in_front_of_label_studios_urls() -> None:
    from django.urls import reverse

    assert reverse("label_studio_sso:token") == "/api/sso/token"
    assert reverse("label_studio_sso:login") == "/api/sso/login"
    assert reverse("projects:project-index") == "/projects/"
