"""The settings object: every name, default, type and bound, from settings or environment."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from label_studio_sso.conf import (
    OPTIONS,
    InvalidSetting,
    invalid_settings,
    log_level_from_environment,
    mask,
    read_environment,
    sso_settings,
)

KEY = "k" * 32


def test_defaults_are_the_documented_ones() -> None:
    assert {option.name: option.default for option in OPTIONS} == {
        "JWT_SSO_COOKIE_NAME": "ls_auth_token",
        "JWT_SSO_COOKIE_PATH": "/",
        "JWT_SSO_COOKIE_DOMAIN": None,
        "JWT_SSO_TOKEN_PARAM": "token",
        "JWT_SSO_NATIVE_USER_ID_CLAIM": "user_id",
        "SSO_TOKEN_EXPIRY": 600,
        "SSO_TOKEN_ISSUER_PERMISSION": "staff",
        "SSO_SINGLE_USE": True,
        "SSO_CLOCK_SKEW": 30,
        "SSO_PROXY_REQUIRED": False,
        "SSO_ISSUER_SUPERUSERS": False,
        "SSO_SCIM_SUPERUSERS": False,
        "SSO_SIGNING_KEY": None,
        "SSO_PREVIOUS_SIGNING_KEYS": (),
        "SSO_FRAME_ANCESTORS": (),
        "SSO_RATE_LIMIT": "60/m",
        "SSO_CREATE_USERS": False,
        "SSO_ALLOWED_EMAIL_DOMAINS": (),
        "SSO_ORGANIZATION": None,
        "SSO_REQUIRED_GROUPS": (),
        "SSO_STAFF_GROUPS": None,
        "SSO_OIDC_ISSUER": None,
        "SSO_OIDC_CLIENT_ID": "",
        "SSO_OIDC_CLIENT_SECRET": "",
        "SSO_OIDC_SCOPES": ("openid", "email", "profile"),
        "SSO_OIDC_DISPLAY_NAME": "SSO",
        "SSO_OIDC_GROUPS_CLAIM": "groups",
        "SSO_PASSWORD_LOGIN": True,
        "SSO_FRAME_ROOM": True,
        "SSO_JWKS_MIN_REFRESH": 60,
        "SSO_TRUSTED_PROXIES": (),
        "SSO_PROXY_EMAIL_HEADER": "",
        "SSO_PROXY_NAME_HEADER": "",
        "SSO_PROXY_GROUPS_HEADER": "",
        "SSO_PROXY_JWT_HEADER": "",
        "SSO_PROXY_JWKS_URL": None,
        "SSO_PROXY_JWT_AUDIENCE": "",
        "SSO_PROXY_JWT_ISSUER": "",
        "SSO_PROXY_JWT_ALGORITHMS": ("RS256", "ES256", "EdDSA"),
        "SSO_ISSUER_JWKS_URL": None,
        "SSO_ISSUER_PUBLIC_KEYS": None,
        "SSO_ISSUER_ALGORITHMS": ("RS256", "ES256", "EdDSA"),
        "SSO_ISSUER": "",
        "SSO_ISSUER_AUDIENCE": "",
        "SSO_SCIM_TOKEN": None,
        "SSO_SCIM_RATE_LIMIT": "3000/m",
        "SSO_SAML_IDP_METADATA_URL": None,
        "SSO_SAML_IDP_METADATA_FILE": None,
        "SSO_SAML_SP_ENTITY_ID": "",
        "SSO_SAML_SP_CERT": (),
        "SSO_SAML_SP_KEY": "",
        "SSO_SAML_DISPLAY_NAME": "SAML",
        "SSO_SAML_EMAIL_ATTRIBUTE": (
            "email",
            "mail",
            "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
            "urn:oid:0.9.2342.19200300.100.1.3",
        ),
        "SSO_SAML_FIRST_NAME_ATTRIBUTE": (
            "firstName",
            "givenName",
            "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname",
            "urn:oid:2.5.4.42",
        ),
        "SSO_SAML_LAST_NAME_ATTRIBUTE": (
            "lastName",
            "sn",
            "surname",
            "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname",
            "urn:oid:2.5.4.4",
        ),
        "SSO_SAML_GROUPS_ATTRIBUTE": (
            "groups",
            "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups",
            "http://schemas.xmlsoap.org/claims/Group",
            "memberOf",
        ),
        "SSO_SAML_ALLOW_IDP_INITIATED": False,
    }
    for option in OPTIONS:
        assert option.clean(option.default) == option.default


@pytest.mark.parametrize(
    ("name", "text", "value"),
    [
        ("JWT_SSO_COOKIE_NAME", "", ""),
        ("JWT_SSO_COOKIE_NAME", "portal_sso", "portal_sso"),
        ("JWT_SSO_COOKIE_PATH", "/app", "/app"),
        ("JWT_SSO_COOKIE_DOMAIN", ".example.com", ".example.com"),
        ("JWT_SSO_COOKIE_DOMAIN", "", None),
        ("JWT_SSO_TOKEN_PARAM", "", ""),
        ("JWT_SSO_NATIVE_USER_ID_CLAIM", "ls_uid", "ls_uid"),
        ("SSO_TOKEN_EXPIRY", " 10 ", 10),
        ("SSO_TOKEN_EXPIRY", "86400", 86400),
        ("SSO_TOKEN_ISSUER_PERMISSION", "SuperUser", "superuser"),
        ("SSO_SINGLE_USE", "off", False),
        ("SSO_SINGLE_USE", "TRUE", True),
        ("SSO_CLOCK_SKEW", "0", 0),
        ("SSO_SIGNING_KEY", KEY, KEY.encode()),
        ("SSO_SIGNING_KEY", "", None),
        ("SSO_PREVIOUS_SIGNING_KEYS", f"{KEY},{'m' * 40}", (KEY.encode(), b"m" * 40)),
        ("SSO_PREVIOUS_SIGNING_KEYS", "", ()),
        (
            "SSO_FRAME_ANCESTORS",
            "https://portal.example.com 'self', https://*.example.org:8443",
            ("https://portal.example.com", "'self'", "https://*.example.org:8443"),
        ),
        ("SSO_FRAME_ANCESTORS", "'none'", ("'none'",)),
        ("SSO_RATE_LIMIT", "100 / minute", "100/m"),
        ("SSO_RATE_LIMIT", "5/s", "5/s"),
        ("SSO_CREATE_USERS", "on", True),
        ("SSO_ALLOWED_EMAIL_DOMAINS", "Example.COM, lab.example.org", ("example.com", "lab.example.org")),
        ("SSO_ALLOWED_EMAIL_DOMAINS", "", ()),
        ("SSO_ORGANIZATION", "3", 3),
        ("SSO_ORGANIZATION", "", None),
        ("SSO_REQUIRED_GROUPS", "Annotators, QA team", ("Annotators", "QA team")),
        ("SSO_STAFF_GROUPS", "Label Studio admins", ("Label Studio admins",)),
        ("SSO_STAFF_GROUPS", " ", None),
        ("SSO_OIDC_ISSUER", "https://idp.example.com/realms/corp", "https://idp.example.com/realms/corp"),
        ("SSO_OIDC_ISSUER", "http://localhost:9000", "http://localhost:9000"),
        ("SSO_OIDC_ISSUER", "http://idp.localhost:9000", "http://idp.localhost:9000"),
        ("SSO_OIDC_ISSUER", "", None),
        ("SSO_OIDC_SCOPES", "openid email profile groups openid", ("openid", "email", "profile", "groups")),
        ("SSO_OIDC_DISPLAY_NAME", " Corp IdP ", "Corp IdP"),
        ("SSO_OIDC_GROUPS_CLAIM", "https://example.com/claims/groups", "https://example.com/claims/groups"),
        ("SSO_PASSWORD_LOGIN", "off", False),
        ("SSO_JWKS_MIN_REFRESH", "0", 0),
        ("SSO_SCIM_TOKEN", " " + "Tok3n-._~+/" * 3 + "==\n", "Tok3n-._~+/" * 3 + "=="),
        ("SSO_SCIM_TOKEN", "", None),
        ("SSO_SCIM_RATE_LIMIT", "20/s", "20/s"),
    ],
)
def test_environment_values_become_typed_settings(name: str, text: str, value: Any) -> None:
    assert read_environment({name: text}) == {name: value}


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("JWT_SSO_COOKIE_NAME", "bad name"),
        ("JWT_SSO_COOKIE_NAME", "a;b"),
        ("SSO_OIDC_ISSUER", "http://idp.example.com"),  # plain http beyond this machine
        ("SSO_OIDC_ISSUER", "http://localhost.example.com"),
        ("SSO_OIDC_ISSUER", "https://user:password@idp.example.com"),
        ("SSO_OIDC_ISSUER", "https://idp.example.com#fragment"),
        ("SSO_OIDC_ISSUER", "https://idp.example.com:99999"),
        ("SSO_OIDC_ISSUER", "ftp://idp.example.com"),
        ("SSO_OIDC_ISSUER", "https://"),
        ("SSO_OIDC_SCOPES", "email profile"),
        ("JWT_SSO_COOKIE_PATH", "app"),
        ("JWT_SSO_COOKIE_PATH", "/a;b"),
        ("JWT_SSO_COOKIE_DOMAIN", "exa mple.com"),
        ("JWT_SSO_TOKEN_PARAM", "to ken"),
        ("JWT_SSO_NATIVE_USER_ID_CLAIM", "exp"),
        ("JWT_SSO_NATIVE_USER_ID_CLAIM", ""),
        ("JWT_SSO_NATIVE_USER_ID_CLAIM", "1abc"),
        ("SSO_TOKEN_EXPIRY", "9"),
        ("SSO_TOKEN_EXPIRY", "86401"),
        ("SSO_TOKEN_EXPIRY", "ten"),
        ("SSO_TOKEN_EXPIRY", "-5"),
        ("SSO_TOKEN_EXPIRY", ""),
        ("SSO_TOKEN_EXPIRY", "1e3"),
        ("SSO_TOKEN_EXPIRY", "٣٠٠"),
        ("SSO_TOKEN_ISSUER_PERMISSION", "admin"),
        ("SSO_SINGLE_USE", "maybe"),
        ("SSO_SINGLE_USE", ""),
        ("SSO_CLOCK_SKEW", "301"),
        ("SSO_SIGNING_KEY", "short"),
        ("SSO_PREVIOUS_SIGNING_KEYS", f"{KEY},short"),
        ("SSO_FRAME_ANCESTORS", "portal.example.com"),
        ("SSO_FRAME_ANCESTORS", "javascript:alert(1)"),
        ("SSO_FRAME_ANCESTORS", "'none' https://portal.example.com"),
        ("SSO_RATE_LIMIT", "fast"),
        ("SSO_RATE_LIMIT", "0/m"),
        ("SSO_RATE_LIMIT", "10/week"),
        ("SSO_ALLOWED_EMAIL_DOMAINS", "*.example.com"),
        ("SSO_ALLOWED_EMAIL_DOMAINS", "alice@example.com"),
        ("SSO_ALLOWED_EMAIL_DOMAINS", "localhost"),
        ("SSO_ORGANIZATION", "-1"),
        ("SSO_REQUIRED_GROUPS", "admins,\x00"),
    ],
)
def test_a_bad_environment_value_is_one_line_naming_the_variable(name: str, text: str) -> None:
    with pytest.raises(ImproperlyConfigured) as error:
        read_environment({name: text})
    message = str(error.value)
    assert message.startswith(f"{name}=")
    assert "is not allowed:" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SSO_TOKEN_EXPIRY", True),
        ("SSO_TOKEN_EXPIRY", 5.0),
        ("SSO_SINGLE_USE", 1),
        ("SSO_FRAME_ANCESTORS", 3),
    ],
)
def test_wrong_types_in_django_settings_are_refused(name: str, value: Any) -> None:
    option = next(option for option in OPTIONS if option.name == name)
    with pytest.raises(InvalidSetting):
        option.clean(value)


def test_native_values_in_django_settings_are_accepted() -> None:
    with override_settings(
        SSO_TOKEN_EXPIRY=120,
        SSO_SINGLE_USE=False,
        SSO_PREVIOUS_SIGNING_KEYS=[KEY],
        SSO_FRAME_ANCESTORS=["'self'"],
    ):
        assert sso_settings.SSO_TOKEN_EXPIRY == 120
        assert sso_settings.SSO_SINGLE_USE is False
        assert (KEY.encode(),) == sso_settings.SSO_PREVIOUS_SIGNING_KEYS
        assert sso_settings.SSO_FRAME_ANCESTORS == ("'self'",)
    assert sso_settings.SSO_TOKEN_EXPIRY == 600


def test_secrets_are_masked_in_errors() -> None:
    secret = "short-but-secret"
    with pytest.raises(ImproperlyConfigured) as error:
        read_environment({"SSO_SIGNING_KEY": secret})
    assert secret not in str(error.value)
    assert "16 chars" in str(error.value)
    assert mask(["abc", "defg"]) == "['****' (3 chars), '****' (4 chars)]"
    assert mask("") == "''"


def test_long_values_are_shortened_in_errors() -> None:
    with pytest.raises(ImproperlyConfigured) as error:
        read_environment({"SSO_RATE_LIMIT": "x" * 500})
    assert len(str(error.value)) < 250


def test_an_invalid_django_setting_raises_improperly_configured_when_read() -> None:
    with override_settings(SSO_TOKEN_EXPIRY=5), pytest.raises(ImproperlyConfigured, match="SSO_TOKEN_EXPIRY"):
        _ = sso_settings.SSO_TOKEN_EXPIRY


def test_invalid_settings_lists_every_bad_value() -> None:
    with override_settings(SSO_TOKEN_EXPIRY=5, SSO_RATE_LIMIT="nope"):
        from django.conf import settings

        assert {problem.name for problem in invalid_settings(settings)} == {
            "SSO_TOKEN_EXPIRY",
            "SSO_RATE_LIMIT",
        }


def test_unknown_attributes_are_attribute_errors() -> None:
    with pytest.raises(AttributeError):
        _ = sso_settings.NOT_A_SETTING


def test_bytes_and_empty_bytes_keys_are_accepted() -> None:
    option = next(option for option in OPTIONS if option.name == "SSO_SIGNING_KEY")
    assert option.clean(b"") is None
    assert option.clean(b"b" * 32) == b"b" * 32


def test_list_settings_accept_none_as_empty() -> None:
    for name in ("SSO_PREVIOUS_SIGNING_KEYS", "SSO_FRAME_ANCESTORS"):
        assert next(option for option in OPTIONS if option.name == name).clean(None) == ()


@pytest.mark.parametrize("level", ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"])
def test_a_log_level_spelled_as_python_spells_it_is_used(level: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSO_AUDIT_LOG_LEVEL", level)
    assert log_level_from_environment("SSO_AUDIT_LOG_LEVEL") == level


@pytest.mark.parametrize("level", ["info", "TRACE", "", "20"])
def test_any_other_log_level_stops_the_overlay_naming_the_variable(
    level: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Python's logging would stop Label Studio's start with a traceback instead."""
    monkeypatch.setenv("SSO_LOG_LEVEL", level)
    with pytest.raises(ImproperlyConfigured, match=r"^SSO_LOG_LEVEL=.* is not allowed: one of DEBUG"):
        log_level_from_environment("SSO_LOG_LEVEL")


def test_an_unset_log_level_is_info(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SSO_LOG_LEVEL", raising=False)
    assert log_level_from_environment("SSO_LOG_LEVEL") == "INFO"
