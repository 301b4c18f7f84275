"""System checks: the plain package tells an operator what is wrong and how to fix it."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings

from label_studio_sso import checks
from tests.support.configuration_cases import EMPTY_MEANS, PACKAGE_OPTIONS, invalid_cases
from tests.support.label_studio import TEST_SECRET_KEY

LOGIN = checks.LOGIN_MIDDLEWARE
ORIGIN = checks.ORIGIN_MIDDLEWARE


def ids(problems: list) -> set[str]:
    return {problem.id for problem in problems}


def test_the_overlay_configuration_passes_every_check() -> None:
    call_command("check")
    assert ids(checks.check_middleware()) == set()
    assert ids(checks.check_backend()) == set()
    assert ids(checks.check_setting_values()) == set()
    assert ids(checks.check_signing_key()) == set()


@override_settings(SSO_TOKEN_EXPIRY=3, SSO_RATE_LIMIT="lots")
def test_wrong_values_are_errors_with_a_hint() -> None:
    problems = checks.check_setting_values()
    assert ids(problems) == {"label_studio_sso.E001"}
    assert len(problems) == 2
    assert all(problem.hint.startswith("Set ") for problem in problems)


def test_a_missing_backend_is_an_error() -> None:
    backends = [b for b in settings.AUTHENTICATION_BACKENDS if b != checks.BACKEND_PATH]
    with override_settings(AUTHENTICATION_BACKENDS=backends):
        assert ids(checks.check_backend()) == {"label_studio_sso.E002"}


def test_missing_login_middleware_is_an_error_unless_both_transports_are_off() -> None:
    without = [m for m in settings.MIDDLEWARE if m != LOGIN]
    with override_settings(MIDDLEWARE=without):
        assert "label_studio_sso.E003" in ids(checks.check_middleware())
    with override_settings(MIDDLEWARE=without, JWT_SSO_COOKIE_NAME="", JWT_SSO_TOKEN_PARAM=""):
        assert "label_studio_sso.E003" not in ids(checks.check_middleware())


def test_login_middleware_before_authentication_is_an_error() -> None:
    reordered = [LOGIN, *[m for m in settings.MIDDLEWARE if m != LOGIN]]
    with override_settings(MIDDLEWARE=reordered):
        assert "label_studio_sso.E004" in ids(checks.check_middleware())


def test_a_missing_origin_check_is_a_warning_and_a_misplaced_one_an_error() -> None:
    without = [m for m in settings.MIDDLEWARE if m != ORIGIN]
    with override_settings(MIDDLEWARE=without):
        assert "label_studio_sso.W001" in ids(checks.check_middleware())
    with override_settings(MIDDLEWARE=[ORIGIN, *without]):
        assert "label_studio_sso.E005" in ids(checks.check_middleware())


def test_an_origin_check_before_label_studios_bearer_middleware_is_a_warning() -> None:
    without = [m for m in settings.MIDDLEWARE if m != ORIGIN]
    auth = without.index("django.contrib.auth.middleware.AuthenticationMiddleware")
    early = [*without[: auth + 1], ORIGIN, *without[auth + 1 :]]
    with override_settings(MIDDLEWARE=early):
        assert ids(checks.check_middleware()) == {"label_studio_sso.W003"}


def test_no_middleware_that_refuses_ended_sessions_is_an_error() -> None:
    guards = (checks.ENDED_SESSION_MIDDLEWARE, checks.LOGIN_MIDDLEWARE)
    only_login = [m for m in settings.MIDDLEWARE if m != checks.ENDED_SESSION_MIDDLEWARE]
    with override_settings(MIDDLEWARE=only_login):  # a 6.x settings file: the login middleware checks
        assert "label_studio_sso.E008" not in ids(checks.check_middleware())
    with override_settings(MIDDLEWARE=[m for m in settings.MIDDLEWARE if m not in guards]):
        assert "label_studio_sso.E008" in ids(checks.check_middleware())
    early = [checks.ENDED_SESSION_MIDDLEWARE, *[m for m in settings.MIDDLEWARE if m not in guards]]
    with override_settings(MIDDLEWARE=early):
        assert "label_studio_sso.E008" in ids(checks.check_middleware())


def test_frame_ancestors_without_its_middleware_is_an_error() -> None:
    without = [m for m in settings.MIDDLEWARE if m != checks.FRAMING_MIDDLEWARE]
    with override_settings(MIDDLEWARE=without, SSO_FRAME_ANCESTORS="'self'"):
        assert "label_studio_sso.E006" in ids(checks.check_middleware())


def test_invalid_values_do_not_crash_the_other_checks() -> None:
    with override_settings(JWT_SSO_COOKIE_NAME="bad name", SSO_SIGNING_KEY="short"):
        assert "label_studio_sso.E003" not in ids(checks.check_middleware())
        assert checks.check_signing_key() == []


def test_signing_with_secret_key_is_an_error() -> None:
    with override_settings(SSO_SIGNING_KEY=TEST_SECRET_KEY):
        assert ids(checks.check_signing_key()) == {"label_studio_sso.E007"}
    with override_settings(SSO_SIGNING_KEY="a-separate-signing-key-0123456789-abcdef"):
        assert checks.check_signing_key() == []


def test_an_invalid_frame_ancestors_value_is_reported_once_not_twice() -> None:
    without = [m for m in settings.MIDDLEWARE if m != checks.FRAMING_MIDDLEWARE]
    with override_settings(MIDDLEWARE=without, SSO_FRAME_ANCESTORS="not an origin"):
        assert "label_studio_sso.E006" not in ids(checks.check_middleware())
        assert ids(checks.check_setting_values()) == {"label_studio_sso.E001"}


@pytest.mark.parametrize(("name", "problem", "value"), invalid_cases(PACKAGE_OPTIONS))
def test_every_setting_with_a_bad_value_is_a_system_check_error_naming_it(
    name: str, problem: str, value: str
) -> None:
    with override_settings(**{name: value}):
        errors = [error for error in checks.check_setting_values() if error.id == "label_studio_sso.E001"]
    assert [error.msg.split("=")[0] for error in errors] == [name], problem


@pytest.mark.parametrize("name", sorted(EMPTY_MEANS))
def test_an_empty_value_is_valid_where_it_is_documented(name: str) -> None:
    with override_settings(**{name: ""}):
        assert checks.check_setting_values() == []


def test_the_overlay_shares_the_rate_limit_through_the_database() -> None:
    assert settings.CACHES["label_studio_sso"]["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"
    assert checks.check_rate_limit_store() == []


def test_without_a_shared_rate_limit_cache_a_warning_says_how_to_add_one() -> None:
    caches = {name: value for name, value in settings.CACHES.items() if name != "label_studio_sso"}
    with override_settings(CACHES=caches):
        (warning,) = checks.check_rate_limit_store()
    assert warning.id == "label_studio_sso.W002"
    assert "django.core.cache.backends.db.DatabaseCache" in warning.hint


def test_middleware_named_by_its_inner_path_counts_as_present() -> None:
    inner = "label_studio_sso.guards.cross_origin.CrossOriginWriteMiddleware"
    renamed = [inner if m == ORIGIN else m for m in settings.MIDDLEWARE]
    with override_settings(MIDDLEWARE=renamed):
        assert ids(checks.check_middleware()) == set()
    moved = [m for m in renamed if m != inner]
    moved.insert(0, inner)  # before the session middleware
    with override_settings(MIDDLEWARE=moved):
        assert "label_studio_sso.E005" in ids(checks.check_middleware())
    unknown = [*settings.MIDDLEWARE, "label_studio_sso.no_such_module.Middleware"]
    with override_settings(MIDDLEWARE=unknown):
        assert ids(checks.check_middleware()) == set()


@override_settings(SSO_OIDC_ISSUER="https://idp.example.com/realms/corp")
def test_an_issuer_without_client_credentials_is_an_error() -> None:
    assert ids(checks.check_combinations()) == {"label_studio_sso.E009"}
    with override_settings(SSO_OIDC_CLIENT_ID="label-studio", SSO_OIDC_CLIENT_SECRET="s3cret"):
        assert ids(checks.check_combinations()) == set()


@override_settings(
    SSO_OIDC_ISSUER="https://idp.example.com",
    SSO_OIDC_CLIENT_ID="label-studio",
    SSO_OIDC_CLIENT_SECRET="s3cret",
    ROOT_URLCONF="label_studio_sso.urls",  # the token API's routes only
)
def test_an_issuer_without_the_openid_routes_is_an_error() -> None:
    from django.urls import clear_url_caches

    clear_url_caches()
    try:
        assert ids(checks.check_openid_connect()) == {"label_studio_sso.E010"}
    finally:
        clear_url_caches()


def test_password_login_off_needs_the_switch_before_the_password_backend() -> None:
    without = [b for b in settings.AUTHENTICATION_BACKENDS if b != checks.PASSWORD_SWITCH]
    after = [*without, checks.PASSWORD_SWITCH]
    with override_settings(SSO_PASSWORD_LOGIN=False):
        assert ids(checks.check_password_switch()) == set()
        for backends in (without, after):
            with override_settings(AUTHENTICATION_BACKENDS=backends):
                assert ids(checks.check_password_switch()) == {"label_studio_sso.E011"}
    with override_settings(AUTHENTICATION_BACKENDS=without):
        assert ids(checks.check_password_switch()) == set()  # password login on: nothing to switch


def test_gateway_and_portal_key_settings_that_need_each_other_are_errors() -> None:
    def problems(**values: Any) -> set[str]:
        with override_settings(**values):
            return ids(checks.check_combinations())

    trusted = {"SSO_TRUSTED_PROXIES": "10.0.0.0/8"}
    assert problems(SSO_PROXY_EMAIL_HEADER="X-Forwarded-Email") == {"label_studio_sso.E012"}
    assert problems(SSO_PROXY_EMAIL_HEADER="X-Forwarded-Email", **trusted) == set()
    assert problems(SSO_PROXY_JWT_HEADER="X-Goog-Iap-Jwt-Assertion", **trusted) == {"label_studio_sso.E013"}
    assert problems(SSO_ISSUER_JWKS_URL="https://portal.example.com/jwks") == {"label_studio_sso.E014"}
    assert problems(SSO_ISSUER="https://portal.example.com", SSO_ISSUER_AUDIENCE="ls") == {
        "label_studio_sso.E014"
    }
    complete = {"SSO_ISSUER": "https://portal.example.com", "SSO_ISSUER_AUDIENCE": "ls"}
    assert problems(SSO_ISSUER_JWKS_URL="https://portal.example.com/jwks", **complete) == set()
    assert problems(SSO_PROXY_REQUIRED=True) == {"label_studio_sso.E018"}
    assert problems(SSO_PROXY_REQUIRED=True, **trusted) == {"label_studio_sso.E018"}
    assert problems(SSO_PROXY_REQUIRED=True, SSO_PROXY_EMAIL_HEADER="X-Forwarded-Email", **trusted) == set()


def test_a_gateway_without_its_middleware_after_authentication_is_an_error() -> None:
    without = [item for item in settings.MIDDLEWARE if "TrustedGateway" not in item]
    gateway = {"SSO_TRUSTED_PROXIES": "10.0.0.0/8", "SSO_PROXY_EMAIL_HEADER": "X-Forwarded-Email"}
    with override_settings(MIDDLEWARE=without, **gateway):
        assert ids(checks.check_combinations()) == {"label_studio_sso.E015"}
    with override_settings(MIDDLEWARE=without):
        assert ids(checks.check_combinations()) == set()  # no gateway configured: not needed


@override_settings(SSO_SCIM_TOKEN="t" * 40, SSO_CREATE_USERS=True)
def test_scim_needs_its_routes_at_scim_v2() -> None:
    from django.urls import clear_url_caches

    assert ids(checks.check_scim()) == set()
    clear_url_caches()
    try:
        with override_settings(ROOT_URLCONF="label_studio_sso.urls"):  # the token API's routes only
            assert ids(checks.check_scim()) == {"label_studio_sso.E016"}
    finally:
        clear_url_caches()


def test_scim_without_user_creation_is_a_warning_and_without_a_token_nothing() -> None:
    with override_settings(SSO_SCIM_TOKEN="t" * 40):
        assert ids(checks.check_scim()) == {"label_studio_sso.W004"}
    with override_settings(SSO_SCIM_TOKEN=""):
        assert ids(checks.check_scim()) == set()


def test_saml_settings_that_need_each_other_are_errors(tmp_path: Any) -> None:
    from tests.support.saml import make_key_pair

    def problems(**values: Any) -> set[str]:
        with override_settings(**values):
            return ids(checks.check_combinations())

    ours, other = make_key_pair(tmp_path, "ours"), make_key_pair(tmp_path, "other")
    url = "https://idp.example.com/metadata"
    assert problems(SSO_SAML_IDP_METADATA_URL=url, SSO_SAML_IDP_METADATA_FILE="/etc/idp.xml") == {
        "label_studio_sso.E019"
    }
    assert problems(SSO_SAML_SP_CERT=ours.certificate_pem) == {"label_studio_sso.E020"}
    assert problems(SSO_SAML_SP_KEY=ours.key_file.read_text()) == {"label_studio_sso.E020"}
    key = ours.key_file.read_text()
    assert problems(SSO_SAML_SP_KEY=key, SSO_SAML_SP_CERT=other.certificate_pem) == {"label_studio_sso.E020"}
    rotating = ours.certificate_pem + other.certificate_pem
    assert problems(SSO_SAML_SP_KEY=key, SSO_SAML_SP_CERT=rotating, SSO_SAML_IDP_METADATA_URL=url) == set()
