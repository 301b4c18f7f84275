"""The container's environment check and database wait, run in-process."""

from __future__ import annotations

import os
from typing import Any

import pytest

from label_studio_sso.container.environment import (
    EX_UNAVAILABLE,
    EX_USAGE,
    EnvironmentInvalid,
    check,
    label_studio_env,
    main,
    wait_for_database,
)
from tests.support.configuration_cases import every_variable, invalid_cases
from tests.support.processes import free_port

SECRET = "a-shared-secret-key-for-every-replica-0123456789"


def test_defaults_pass_and_print_every_setting() -> None:
    lines = check({})
    assert "SSO_TOKEN_EXPIRY=600 (default)" in lines
    assert "SSO_SIGNING_KEY=(derived from SECRET_KEY)" in lines
    assert "SSO_PREVIOUS_SIGNING_KEYS=unset (default)" in lines
    assert "JWT_SSO_COOKIE_DOMAIN=unset (default)" in lines
    assert "DJANGO_DB=sqlite" in lines
    assert "SECRET_KEY=(generated and kept in the data directory)" in lines


def test_configured_values_are_shown_and_secrets_masked() -> None:
    lines = check(
        {
            "SSO_TOKEN_EXPIRY": "120",
            "SSO_SIGNING_KEY": "s" * 40,
            "SSO_PREVIOUS_SIGNING_KEYS": "p" * 33,
            "SSO_FRAME_ANCESTORS": "https://portal.example.com 'self'",
            "SECRET_KEY": SECRET,
            "PORT": "9000",
        }
    )
    text = "\n".join(lines)
    assert "SSO_TOKEN_EXPIRY=120\n" in text + "\n"
    assert "SSO_SIGNING_KEY='****' (40 chars)" in lines
    assert "SSO_PREVIOUS_SIGNING_KEYS=['****' (33 chars)]" in lines
    assert "SSO_FRAME_ANCESTORS=https://portal.example.com 'self'" in lines
    assert "PORT=9000" in lines
    assert SECRET not in text and "s" * 40 not in text


def _portal_key() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    public = ec.generate_private_key(ec.SECP256R1()).public_key()
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


PORTAL_KEY = _portal_key()


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"SSO_TOKEN_EXPIRY": "5"}, "SSO_TOKEN_EXPIRY='5'"),
        ({"SSO_SIGNING_KEY": "short"}, "SSO_SIGNING_KEY='****' (5 chars)"),
        ({"PORT": "http"}, "PORT='http'"),
        ({"PORT": "70000"}, "PORT='70000'"),
        ({"WEB_CONCURRENCY": "0"}, "WEB_CONCURRENCY='0'"),
        ({"LISTEN_ADDRESS": "everywhere"}, "LISTEN_ADDRESS='everywhere'"),
        ({"DB_WAIT_TIMEOUT": "-1"}, "DB_WAIT_TIMEOUT='-1'"),
        ({"MIGRATE_LOCK_TIMEOUT": "1h"}, "MIGRATE_LOCK_TIMEOUT='1h'"),
        ({"DJANGO_DB": "mongodb"}, "DJANGO_DB='mongodb'"),
        ({"DJANGO_DB": "postgresql"}, "SECRET_KEY is not set but DJANGO_DB uses a shared database"),
        ({"LABEL_STUDIO_DJANGO_DB": "default"}, "SECRET_KEY is not set"),
        (
            {"LABEL_STUDIO_USERNAME": "admin@example.com"},
            "LABEL_STUDIO_USERNAME is set without LABEL_STUDIO_PASSWORD",
        ),
        (
            {"SSO_OIDC_ISSUER": "https://idp.example.com", "SSO_OIDC_CLIENT_ID": "label-studio"},
            "SSO_OIDC_ISSUER is set without SSO_OIDC_CLIENT_ID and SSO_OIDC_CLIENT_SECRET",
        ),
        ({"SSO_PROXY_EMAIL_HEADER": "X-Forwarded-Email"},
         "SSO_PROXY_EMAIL_HEADER is set without SSO_TRUSTED_PROXIES"),
        (
            {"SSO_PROXY_GROUPS_HEADER": "X-Forwarded-Groups", "SSO_TRUSTED_PROXIES": "10.0.0.0/8"},
            "SSO_PROXY_GROUPS_HEADER is set without SSO_PROXY_EMAIL_HEADER",
        ),
        (
            {"SSO_PROXY_JWT_HEADER": "Cf-Access-Jwt-Assertion", "SSO_TRUSTED_PROXIES": "10.0.0.0/8",
             "SSO_PROXY_JWKS_URL": "https://team.cloudflareaccess.com/cdn-cgi/access/certs"},
            "SSO_PROXY_JWT_HEADER is set without SSO_PROXY_JWT_AUDIENCE, SSO_PROXY_JWT_ISSUER",
        ),
        ({"SSO_ISSUER_JWKS_URL": "https://portal.example.com/jwks"},
         "Portal keys are set without SSO_ISSUER"),
        ({"SSO_ISSUER": "https://portal.example.com"}, "SSO_ISSUER is set without SSO_ISSUER_JWKS_URL"),
        (
            {"SSO_ISSUER_JWKS_URL": "https://portal.example.com/jwks", "SSO_ISSUER_PUBLIC_KEYS": PORTAL_KEY,
             "SSO_ISSUER": "https://portal.example.com", "SSO_ISSUER_AUDIENCE": "label-studio"},
            "SSO_ISSUER_JWKS_URL and SSO_ISSUER_PUBLIC_KEYS are both set",
        ),
    ],
)  # fmt: skip
def test_each_problem_is_one_line_naming_the_variable(environ: dict[str, str], named: str) -> None:
    with pytest.raises(EnvironmentInvalid) as error:
        check(environ)
    assert named in str(error.value)
    assert "\n" not in str(error.value)


def test_a_gateway_and_portal_keys_configured_together_pass_and_show_what_is_trusted() -> None:
    lines = check(
        {
            "SSO_TRUSTED_PROXIES": "10.0.0.0/8, 172.18.0.5",
            "SSO_PROXY_EMAIL_HEADER": "X-Forwarded-Email",
            "SSO_ISSUER_PUBLIC_KEYS": PORTAL_KEY,
            "SSO_ISSUER": "https://portal.example.com",
            "SSO_ISSUER_AUDIENCE": "label-studio",
        }
    )
    assert "SSO_TRUSTED_PROXIES=10.0.0.0/8 172.18.0.5/32" in lines
    assert any(line.startswith("SSO_ISSUER_PUBLIC_KEYS=1 public key(s): ") for line in lines)


def test_a_shared_database_with_a_secret_key_passes() -> None:
    assert "DJANGO_DB=default" in check({"DJANGO_DB": "default", "SECRET_KEY": SECRET})


def test_label_studio_spellings_are_read_in_label_studios_order() -> None:
    environ = {"SECRET_KEY": "plain", "LABEL_STUDIO_SECRET_KEY": "prefixed"}
    assert label_studio_env(environ, "SECRET_KEY") == "prefixed"
    assert label_studio_env({}, "SECRET_KEY", "fallback") == "fallback"


def test_with_sqlite_there_is_nothing_to_wait_for() -> None:
    assert wait_for_database({}) == "SQLite in the data directory"


def test_an_unreachable_postgresql_gives_up_after_the_timeout() -> None:
    environ = {"DJANGO_DB": "postgresql", "SECRET_KEY": SECRET, "POSTGRE_HOST": "127.0.0.1"}
    environ |= {"POSTGRE_PORT": str(free_port()), "DB_WAIT_TIMEOUT": "1", "POSTGRE_PASSWORD": "pg-secret"}
    with pytest.raises(EnvironmentInvalid) as error:
        wait_for_database(environ, sleep=0.2)
    message = str(error.value)
    assert message.startswith(f"PostgreSQL at 127.0.0.1:{environ['POSTGRE_PORT']} did not accept connections")
    assert "pg-secret" not in message


def test_main_prints_the_configuration_and_exits_0(capsys: Any) -> None:
    assert main(["check"], {}) == 0
    assert "entrypoint: SSO_RATE_LIMIT='60/m' (default)" in capsys.readouterr().out


def test_main_exits_64_on_a_bad_value_and_69_when_the_database_never_comes(capsys: Any) -> None:
    assert main(["check"], {"SSO_CLOCK_SKEW": "9999"}) == EX_USAGE
    assert capsys.readouterr().err.startswith("entrypoint: error: SSO_CLOCK_SKEW='9999' is not allowed")
    environ = {"DJANGO_DB": "postgresql", "SECRET_KEY": SECRET, "POSTGRE_PORT": str(free_port())}
    assert (
        main(["wait-for-db"], environ | {"DB_WAIT_TIMEOUT": "0", "POSTGRE_HOST": "127.0.0.1"})
        == EX_UNAVAILABLE
    )
    assert main(["wait-for-db"], {}) == 0


def test_main_explains_its_usage(capsys: Any) -> None:
    assert main([], {}) == EX_USAGE
    assert "usage:" in capsys.readouterr().err


def test_a_running_postgresql_is_reported_ready(postgres: Any) -> None:
    environ = {**postgres.environment(), "SECRET_KEY": SECRET, "DB_WAIT_TIMEOUT": "10"}
    assert wait_for_database(environ) == f"PostgreSQL at 127.0.0.1:{postgres.port}"


def test_tls_needs_both_files_and_readable_ones(tmp_path: Any) -> None:
    certificate, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    certificate.write_text("x")
    key.write_text("y")
    assert "HTTPS=on, certificate " + str(certificate) in check(
        {"TLS_CERT_FILE": str(certificate), "TLS_KEY_FILE": str(key)}
    )
    assert "HTTPS=off" in check({})
    with pytest.raises(EnvironmentInvalid, match="TLS_CERT_FILE and TLS_KEY_FILE go together"):
        check({"TLS_CERT_FILE": str(certificate)})
    with pytest.raises(EnvironmentInvalid, match="TLS_KEY_FILE=/nonexistent is not a readable file"):
        check({"TLS_CERT_FILE": str(certificate), "TLS_KEY_FILE": "/nonexistent"})


@pytest.mark.parametrize(("name", "problem", "value"), invalid_cases(every_variable()))
def test_every_variable_with_a_bad_value_is_refused_naming_it(name: str, problem: str, value: str) -> None:
    with pytest.raises(EnvironmentInvalid) as error:
        check({name: value})
    assert str(error.value).startswith(f"{name}="), problem


def test_the_entrypoint_runs_the_check_as_a_module() -> None:
    import subprocess
    import sys

    refused = subprocess.run(
        [sys.executable, "-m", "label_studio_sso.container.environment", "check"],
        env={**os.environ, "SSO_CLOCK_SKEW": "9999"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == EX_USAGE
    assert refused.stderr.startswith("entrypoint: error: SSO_CLOCK_SKEW='9999' is not allowed")
    assert refused.stderr.count("\n") == 1
