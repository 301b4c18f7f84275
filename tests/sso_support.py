"""Helpers shared by the tests: the migrated database template and LS credentials.

The migrated template is built once (a ``migrate`` subprocess through the overlay) and
cached, keyed by the Label Studio version and our migrations, so no run migrates twice.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import ipaddress
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("LSSO_CACHE_DIR", Path.home() / ".cache" / "label-studio-sso"))
TEST_SECRET_KEY = "test-secret-key-for-label-studio-sso-unit-tests-0123456789"

# Environment every Label Studio process of the tests gets: nothing phones home.
BASE_ENV = {
    "DJANGO_SETTINGS_MODULE": "settings_overlay.settings",
    "SECRET_KEY": TEST_SECRET_KEY,
    "SENTRY_DSN": "",
    "FRONTEND_SENTRY_DSN": "",
    "LATEST_VERSION_CHECK": "false",
    "COLLECT_ANALYTICS": "false",
    "LOG_LEVEL": "WARNING",
    "DEBUG": "false",
}


def migrated_template() -> Path:
    """A migrated Label Studio + SSO SQLite file, built once per LS version and migration set."""
    digest = hashlib.sha256(importlib.metadata.version("label-studio").encode())
    for migration in sorted((REPO / "label_studio_sso" / "migrations").glob("*.py")):
        digest.update(migration.read_bytes())
    template = CACHE / "db-templates" / f"{digest.hexdigest()[:16]}.sqlite3"
    if template.exists():
        return template
    template.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lsso-migrate-") as data_dir:
        env = {**os.environ, **BASE_ENV, "LABEL_STUDIO_BASE_DATA_DIR": data_dir}
        subprocess.run(
            [sys.executable, "-m", "django", "migrate", "--no-input", "-v0"],
            env=env,
            cwd=REPO,
            check=True,
            timeout=600,
        )
        partial = template.with_suffix(".partial")
        shutil.copyfile(Path(data_dir) / "label_studio.sqlite3", partial)
        partial.replace(template)
    return template


def new_data_dir(prefix: str = "lsso-test-") -> Path:
    """A fresh Label Studio data directory holding a copy of the migrated database."""
    data_dir = Path(tempfile.mkdtemp(prefix=prefix))
    shutil.copyfile(migrated_template(), data_dir / "label_studio.sqlite3")
    return data_dir


def legacy_token_of(user: Any) -> str:
    from rest_framework.authtoken.models import Token

    return Token.objects.get_or_create(user=user)[0].key


def logged_in_browser(email: str, password: str) -> Any:
    """A test browser logged in through Label Studio's own login form."""
    from django.test import Client

    browser = Client()
    browser.get("/user/login/")
    csrf = browser.cookies["csrftoken"].value
    response = browser.post(
        "/user/login/", {"email": email, "password": password, "csrfmiddlewaretoken": csrf}
    )
    assert response.status_code == 302, response.content[:300]
    return browser


def personal_access_tokens(user: Any) -> tuple[str, str]:
    """(refresh, access) minted by Label Studio's own API for ``user``."""
    from django.test import Client

    legacy = {"HTTP_AUTHORIZATION": f"Token {legacy_token_of(user)}"}
    created = Client().post("/api/token/", content_type="application/json", **legacy)
    assert created.status_code == 201, created.content
    refresh = created.json()["token"]
    refreshed = Client().post("/api/token/refresh/", {"refresh": refresh}, content_type="application/json")
    assert refreshed.status_code == 200, refreshed.content
    return refresh, refreshed.json()["access"]


def whoami(client: Any) -> str | None:
    """The email Label Studio's own API says the client's session belongs to."""
    response = client.get("/api/current-user/whoami")
    return response.json()["email"] if response.status_code == 200 else None


def stop_process_group(process: subprocess.Popen[bytes], grace: float = 20) -> None:
    """SIGTERM a server started with start_new_session=True and its children; SIGKILL if slow."""
    import signal

    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_health(
    url: str,
    timeout: float,
    running: Callable[[], bool] = lambda: True,
    output: Callable[[], str] = str,
    path: str = "/health",
) -> None:
    """Poll ``url`` + ``path`` until it answers 200; fail with the server's output if it dies or stalls."""
    import time

    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not running():
            raise AssertionError(f"server exited:\n{output()[-4000:]}")
        try:  # a worker still importing Label Studio accepts, then answers late
            if requests.get(f"{url}{path}", timeout=15, verify=False).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(1)
    raise AssertionError(f"server not healthy after {timeout}s:\n{output()[-4000:]}")


class PostgresServer:
    """A throw-away PostgreSQL cluster on a loopback port, run as the postgres user."""

    PASSWORD = "pg-test-password-0123"
    # Nothing here must survive a crash of the machine: skip the disk flushes that make
    # Label Studio's ~400 migrations slow on a busy disk.
    THROWAWAY = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    BIN = Path("/usr/lib/postgresql/15/bin")

    def __init__(self, also_listen_on: str | None = None) -> None:
        """``also_listen_on``: one more address (with its /24) to accept clients from, e.g.
        the Docker bridge's gateway for containers in their own network namespaces."""
        import pwd

        self.port = free_port()
        self.also_listen_on = also_listen_on
        self.directory = Path(tempfile.mkdtemp(prefix="lsso-pg-"))
        account = pwd.getpwnam("postgres")
        os.chown(self.directory, account.pw_uid, account.pw_gid)
        password_file = self.directory / "pw"
        password_file.write_text(self.PASSWORD)
        os.chown(password_file, account.pw_uid, account.pw_gid)
        # A UTF-8 locale, as production servers run: UPPER() then folds non-ASCII letters too.
        self._as_postgres([str(self.BIN / "initdb"), "-D", str(self.directory / "data"), "-U", "postgres",
                           "--auth=scram-sha-256", f"--pwfile={password_file}", "--encoding=UTF8",
                           "--locale=C.UTF-8"])  # fmt: skip
        if also_listen_on:
            with (self.directory / "data" / "pg_hba.conf").open("a") as hba:
                network = ipaddress.ip_network(f"{also_listen_on}/24", strict=False)
                hba.write(f"host all all {network} scram-sha-256\n")
        self.resume()

    def _as_postgres(self, command: list[str]) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", *command], check=True, capture_output=True, timeout=120
        )

    def environment(self) -> dict[str, str]:
        """Label Studio's variables for this server."""
        return {
            "DJANGO_DB": "default",
            "POSTGRE_HOST": "127.0.0.1",
            "POSTGRE_PORT": str(self.port),
            "POSTGRE_NAME": "postgres",
            "POSTGRE_USER": "postgres",
            "POSTGRE_PASSWORD": self.PASSWORD,
        }

    def pause(self) -> None:
        """Stop the server, keeping its data: an outage."""
        self._as_postgres(
            [str(self.BIN / "pg_ctl"), "-D", str(self.directory / "data"), "-m", "fast", "stop"]
        )

    def resume(self) -> None:
        """Start it again on the same port and data, as after an outage."""
        options = (
            f"-c listen_addresses={self._addresses()} -p {self.port} "
            f"-c unix_socket_directories={self.directory} " + self.THROWAWAY
        )
        self._as_postgres([str(self.BIN / "pg_ctl"), "-D", str(self.directory / "data"), "-w", "-l",
                           str(self.directory / "log"), "-o", options, "start"])  # fmt: skip

    def _addresses(self) -> str:
        return ",".join(filter(None, ["127.0.0.1", self.also_listen_on]))

    def session(self) -> SqlSession:
        """A connection of its own (another replica's, say), in autocommit."""
        return SqlSession(host="127.0.0.1", port=self.port, user="postgres", password=self.PASSWORD)

    def query(self, sql: str, *parameters: object) -> list[tuple[object, ...]]:
        with self.session() as session:
            return session.execute(sql, parameters)

    def execute(self, sql: str) -> None:
        """A statement that returns no rows (CREATE ROLE, CREATE DATABASE)."""
        with self.session() as session:
            session.execute(sql)

    def stop(self) -> None:
        self.pause()
        shutil.rmtree(self.directory, ignore_errors=True)


class SqlSession:
    """An autocommit connection through the driver Label Studio ships: psycopg 3 on 1.22 and
    later, psycopg2 on 1.20 and 1.21 (their common API: cursors)."""

    def __init__(self, **parameters: Any) -> None:
        from label_studio_sso.releases import postgres_driver

        self.connection = postgres_driver().connect(**parameters)
        self.connection.autocommit = True

    def execute(self, sql: str, parameters: Any = ()) -> list[tuple[object, ...]]:
        with self.connection.cursor() as cursor:
            cursor.execute(sql, parameters or None)
            return cursor.fetchall() if cursor.description else []

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> SqlSession:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def signed_login_token(user: Any, **changes: Any) -> str:
    """A login token signed with the test instance's key, with any claim changed (e.g. expired)."""
    from hostile_tokens import assemble, claims, keys_for

    keys = keys_for(TEST_SECRET_KEY)
    return assemble(
        {"alg": "HS256", "typ": "JWT", "kid": keys.kid}, claims(user.pk, user.email, **changes), keys.secret
    )


def csrf_post(client: Any, path: str, data: dict[str, str], **extra: Any) -> Any:
    """POST a form the way a browser does after loading the page: with the CSRF cookie's token."""
    return client.post(path, {**data, "csrfmiddlewaretoken": client.cookies["csrftoken"].value}, **extra)
