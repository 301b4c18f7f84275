"""A real PostgreSQL for the tests: Debian's server binaries, a throw-away cluster on loopback."""

from __future__ import annotations

import ipaddress
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from tests.support.processes import free_port


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
