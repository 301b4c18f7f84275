"""The container's environment: validated before Label Studio starts, and the database wait.

``python3 -m label_studio_sso.environment check`` validates every SSO variable (through
the same settings object Django uses), the image's own variables and the rules that
span several of them, then prints the effective SSO configuration with secrets masked.
On the first problem it prints one line naming the variable and exits 64 (EX_USAGE).

``python3 -m label_studio_sso.environment provider`` says whether the OpenID provider
(SSO_OIDC_ISSUER) answers; a warning, never a failure.

``python3 -m label_studio_sso.environment wait-for-db`` waits, bounded by
DB_WAIT_TIMEOUT, until the configured PostgreSQL accepts connections; exit 69
(EX_UNAVAILABLE) with one line if it never does.
"""

from __future__ import annotations

import ipaddress
import os
import sys
import time
from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from ..combinations import combination_problems
from ..conf import (
    LOG_LEVEL_ALLOWED,
    OPTIONS,
    OPTIONS_BY_NAME,
    InvalidSetting,
    Option,
    boolean,
    integer_between,
    label_studio_env,
    log_level,
    mask,
    one_of,
    read_environment,
)
from ..releases import installed_label_studio, postgres_driver, unsupported_release

EX_USAGE = 64
EX_UNAVAILABLE = 69
SHARED_DATABASES = frozenset({"default", "postgresql"})


def _listen_address(value: Any) -> str:
    text = str(value).strip()
    if "%" in text:  # a zone index (fe80::1%eth0): gunicorn cannot bind it as written
        raise ValueError
    return str(ipaddress.ip_address(text))


IMAGE_OPTIONS: tuple[Option, ...] = (
    Option("PORT", 8080, integer_between(1, 65535), "a TCP port from 1 to 65535", summary="Listening port."),
    Option(
        "LISTEN_ADDRESS",
        "0.0.0.0",  # noqa: S104  (a container listens on its own interfaces)
        _listen_address,
        "an IP address such as 0.0.0.0, :: or 127.0.0.1",
        summary=(
            "`::` listens on both families; the healthcheck asks this address (loopback for `0.0.0.0`/`::`)."
        ),
    ),
    Option(
        "WEB_CONCURRENCY",
        2,
        integer_between(1, 64),
        "a number of gunicorn workers from 1 to 64",
        summary="Gunicorn workers.",
    ),
    Option(
        "GUNICORN_THREADS",
        4,
        integer_between(1, 64),
        "a number of threads per worker from 1 to 64",
        summary="Threads per worker: requests served at once are workers times threads.",
    ),
    Option(
        "GUNICORN_TIMEOUT",
        120,
        integer_between(5, 3600),
        "whole seconds from 5 to 3600",
        summary="Seconds a worker may go silent before gunicorn replaces it.",
    ),
    Option(
        "DB_WAIT_TIMEOUT",
        60,
        integer_between(0, 600),
        "whole seconds from 0 to 600",
        summary="Seconds to wait for PostgreSQL before exiting **69**.",
    ),
    Option(
        "MIGRATE_LOCK_TIMEOUT",
        1800,
        integer_between(0, 86400),
        "whole seconds from 0 to 86400",
        summary="Seconds a replica waits for another one's migration before exiting **69**.",
    ),
    Option(
        "DJANGO_DB",
        "sqlite",
        one_of("sqlite", "default", "postgresql"),
        "sqlite, or postgresql (or default)",
        summary=(
            "With PostgreSQL: `POSTGRE_HOST`, `POSTGRE_PORT`, `POSTGRE_NAME`, `POSTGRE_USER`,"
            " `POSTGRE_PASSWORD[_FILE]`."
        ),
    ),
    Option(
        "LSSO_DEMO_DATA",
        False,
        boolean,
        "true or false",
        summary="Make the demo portal's users and project on start.",
    ),
    # Label Studio's own level, which it reads unchecked; ours, which the overlay reads.
    Option(
        "LOG_LEVEL", None, log_level, LOG_LEVEL_ALLOWED, summary="Label Studio's own log level, validated."
    ),
    Option(
        "SSO_LOG_LEVEL",
        "INFO",
        log_level,
        LOG_LEVEL_ALLOWED,
        summary="Levels of `label_studio_sso` and of the audit logger `label_studio_sso.audit`.",
    ),
    Option(
        "SSO_AUDIT_LOG_LEVEL",
        "INFO",
        log_level,
        LOG_LEVEL_ALLOWED,
        summary="Levels of `label_studio_sso` and of the audit logger `label_studio_sso.audit`.",
    ),
)


class EnvironmentInvalid(ValueError):
    """A one-line, secret-free description of what is wrong and how to fix it."""


def image_settings(environ: Mapping[str, str]) -> dict[str, Any]:
    """The image's own variables, typed; DJANGO_DB is read as Label Studio reads it."""
    values = {}
    for option in IMAGE_OPTIONS:
        raw = (
            label_studio_env(environ, option.name) if option.name == "DJANGO_DB" else environ.get(option.name)
        )
        try:
            values[option.name] = option.default if raw is None else option.clean(raw)
        except InvalidSetting as error:
            raise EnvironmentInvalid(str(error)) from None
    return values


def check(environ: Mapping[str, str]) -> list[str]:
    """Validate everything; return the effective configuration as lines for the log."""
    release_problem = unsupported_release(installed_label_studio())
    if release_problem:
        raise EnvironmentInvalid(f"{release_problem}: build the image FROM a supported release")
    try:
        sso = read_environment(environ)
    except ImproperlyConfigured as error:
        raise EnvironmentInvalid(str(error)) from None
    for _code, message, hint in combination_problems(
        lambda name: sso.get(name, OPTIONS_BY_NAME[name].default)
    ):
        raise EnvironmentInvalid(f"{message} {hint}")
    image = image_settings(environ)
    if image["DJANGO_DB"] in SHARED_DATABASES and not label_studio_env(environ, "SECRET_KEY"):
        raise EnvironmentInvalid(
            "SECRET_KEY is not set but DJANGO_DB uses a shared database: every replica would sign "
            "sessions and login tokens with its own random key; set SECRET_KEY (or SECRET_KEY_FILE) "
            "to one shared secret"
        )
    if label_studio_env(environ, "USERNAME") and not label_studio_env(environ, "PASSWORD"):
        raise EnvironmentInvalid(
            "LABEL_STUDIO_USERNAME is set without LABEL_STUDIO_PASSWORD: "
            "set both (or LABEL_STUDIO_PASSWORD_FILE)"
        )
    certificate, key = environ.get("TLS_CERT_FILE", ""), environ.get("TLS_KEY_FILE", "")
    if bool(certificate) != bool(key):
        raise EnvironmentInvalid(
            "TLS_CERT_FILE and TLS_KEY_FILE go together: set both to serve HTTPS, or neither"
        )
    for name, path in (("TLS_CERT_FILE", certificate), ("TLS_KEY_FILE", key)):
        if path and not os.access(path, os.R_OK):
            raise EnvironmentInvalid(f"{name}={path} is not a readable file")
    lines = [
        f"{option.name}={_shown(option, sso.get(option.name, option.default), option.name in sso)}"
        for option in OPTIONS
    ]
    lines += [
        f"{name}={'(Label Studio default)' if value is None else value}" for name, value in image.items()
    ]
    lines.append(f"HTTPS={'on, certificate ' + certificate if certificate else 'off'}")
    secret_key = label_studio_env(environ, "SECRET_KEY")
    lines.append(
        f"SECRET_KEY={mask(secret_key) if secret_key else '(generated and kept in the data directory)'}"
    )
    return lines


def _shown(option: Option, value: Any, configured: bool) -> str:
    if option.name == "SSO_SIGNING_KEY" and value is None:
        return "(derived from SECRET_KEY)"
    if value is None or value == ():
        shown = "unset"
    elif option.secret:
        shown = mask([_text(v) for v in value] if isinstance(value, tuple) else _text(value))
    elif isinstance(value, tuple):
        shown = " ".join(str(item) for item in value)
    elif isinstance(value, dict):  # public keys: how many, and their key ids
        shown = f"{len(value)} public key(s): {', '.join(value)}"
    else:
        shown = repr(value) if isinstance(value, str) else str(value)
    return shown if configured else f"{shown} (default)"


def _text(value: str | bytes) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else value


def wait_for_database(environ: Mapping[str, str], sleep: float = 1.0) -> str:
    """Return a description once PostgreSQL answers; raise EnvironmentInvalid on timeout."""
    image = image_settings(environ)
    if image["DJANGO_DB"] not in SHARED_DATABASES:
        return "SQLite in the data directory"
    driver = postgres_driver()
    host = label_studio_env(environ, "POSTGRE_HOST", "localhost")
    port = label_studio_env(environ, "POSTGRE_PORT", "5432")
    where = f"PostgreSQL at {host}:{port}"
    deadline = time.monotonic() + image["DB_WAIT_TIMEOUT"]
    while True:
        try:
            driver.connect(
                host=host,
                port=port,
                dbname=label_studio_env(environ, "POSTGRE_NAME", "postgres"),
                user=label_studio_env(environ, "POSTGRE_USER", "postgres"),
                password=label_studio_env(environ, "POSTGRE_PASSWORD", "postgres"),
                connect_timeout=3,
            ).close()
            return where
        except driver.OperationalError as error:
            if time.monotonic() >= deadline:
                reason = (
                    str(error).strip().splitlines()[0][:200] if str(error).strip() else type(error).__name__
                )
                raise EnvironmentInvalid(
                    f"{where} did not accept connections within DB_WAIT_TIMEOUT={image['DB_WAIT_TIMEOUT']}s "
                    f"({reason}); check POSTGRE_HOST, POSTGRE_PORT, POSTGRE_USER and the password"
                ) from None
            time.sleep(sleep)


def provider_status(environ: Mapping[str, str], timeout: float = 5) -> str | None:
    """One line on the OpenID provider's discovery document, or None without SSO_OIDC_ISSUER.

    A provider that cannot be reached is a warning: Label Studio starts, its password path
    works, and the button says the provider is unavailable until it answers.
    """
    issuer = read_environment(environ).get("SSO_OIDC_ISSUER")
    if not issuer:
        return None
    import requests

    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    try:
        response = requests.get(url, timeout=timeout)
        response.raise_for_status()
        named = response.json().get("issuer")
    except (requests.RequestException, ValueError, AttributeError) as error:
        reason = type(error).__name__
        return f"warning: the OpenID provider {issuer} cannot be reached now ({reason}); starting anyway"
    if named != issuer:
        return f"warning: {url} names another issuer; sign-in with the provider will be refused"
    return f"OpenID provider: {issuer} answers"


def main(argv: Sequence[str], environ: Mapping[str, str]) -> int:
    """The command line: ``check``, ``provider`` or ``wait-for-db``; returns the exit status."""
    command = argv[0] if argv else ""
    try:
        if command == "check":
            for line in check(environ):
                sys.stdout.write(f"entrypoint: {line}\n")
            return 0
        if command == "provider":  # never fails: a provider that is down must not stop the start
            line = provider_status(environ)
            if line:
                sys.stdout.write(f"entrypoint: {line}\n")
            return 0
        if command == "wait-for-db":
            sys.stdout.write(f"entrypoint: database ready: {wait_for_database(environ)}\n")
            return 0
    except EnvironmentInvalid as error:
        sys.stderr.write(f"entrypoint: error: {error}\n")
        return EX_UNAVAILABLE if command == "wait-for-db" else EX_USAGE
    sys.stderr.write("usage: python3 -m label_studio_sso.container.environment check|provider|wait-for-db\n")
    return EX_USAGE


if __name__ == "__main__":  # the entrypoint runs: python3 -m label_studio_sso.container.environment
    sys.exit(main(sys.argv[1:], os.environ))
