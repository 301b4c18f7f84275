"""Django's ``migrate`` for the image: one replica at a time on PostgreSQL.

Run by ``docker/serve.py`` (or ``python3 -m label_studio_sso.migrate``).

Why not Label Studio's ``locked_migrate``: it waits for its advisory lock inside a
transaction it keeps open, and gives up after a fixed five minutes, exiting the
replica; our CI lost a replica that way with two starting together on a fresh database.
Label Studio's migrations also build indexes with ``CREATE INDEX CONCURRENTLY``, which
waits for older transactions, so an open waiting transaction is best avoided. This lock
is a session-level advisory lock taken by short autocommit polls, so a waiting replica
never holds a transaction open, and it waits (bounded by MIGRATE_LOCK_TIMEOUT) as long
as a migration is really running. It uses Label Studio's lock id (``MIGRATE_LOCK_ID``,
default 1000), so it also excludes a ``locked_migrate`` started by hand.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from django.db import connections

logger = logging.getLogger(__name__)

DEFAULT_LOCK_ID = 1000
POLL_SECONDS = 2.0
PROGRESS_EVERY_SECONDS = 30.0


class MigrationLockTimeout(TimeoutError):
    """Another process held the migration lock for longer than we were allowed to wait."""


@contextmanager
def advisory_lock(
    connection: Any, lock_id: int, timeout: float, poll: float = POLL_SECONDS
) -> Iterator[None]:
    """Hold PostgreSQL advisory lock ``lock_id`` on ``connection`` (autocommit) for the block.

    Polls with ``pg_try_advisory_lock`` so that no statement or transaction stays open
    while waiting; the lock goes with the session if this process dies.
    """
    started = time.monotonic()
    next_report = started
    while not _try_lock(connection, lock_id):
        now = time.monotonic()
        if now - started >= timeout:
            raise MigrationLockTimeout(
                f"another process held the migration lock {lock_id} for more than {timeout:g}s"
            )
        if now >= next_report:
            logger.info("another replica is migrating; waiting for its lock (%.0fs so far)", now - started)
            next_report = now + PROGRESS_EVERY_SECONDS
        time.sleep(poll)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [lock_id])


def _try_lock(connection: Any, lock_id: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [lock_id])
        return bool(cursor.fetchone()[0])


def migrate(timeout: float, then: Callable[[], None] | None = None) -> str:
    """Apply every migration, then run ``then``; on PostgreSQL both under the shared lock.

    ``then`` makes the first user: Label Studio's start-up code creates an organization when
    it finds none, so two replicas doing that at once after the lock would make two.
    Returns what was done.
    """
    from django.conf import settings
    from django.core.management import call_command

    def migrate_then() -> None:
        call_command("migrate", interactive=False, verbosity=0)
        if then is not None:
            then()

    if connections["default"].vendor != "postgresql":
        migrate_then()
        return "migrated SQLite"
    lock_id = int(getattr(settings, "MIGRATE_LOCK_ID", DEFAULT_LOCK_ID))
    lock_connection = connections.create_connection("default")
    try:
        with advisory_lock(lock_connection, lock_id, timeout):
            migrate_then()
    finally:
        lock_connection.close()
    return f"migrated PostgreSQL under advisory lock {lock_id}"


def main(environ: Mapping[str, str], then: Callable[[], None] | None = None) -> int:
    """The command line; exit 64 for a bad timeout, 69 (EX_UNAVAILABLE) when the lock never came."""
    import django

    from .environment import EX_UNAVAILABLE, EX_USAGE, EnvironmentInvalid, image_settings

    try:
        timeout = image_settings(environ)["MIGRATE_LOCK_TIMEOUT"]
    except EnvironmentInvalid as error:
        sys.stderr.write(f"entrypoint: error: {error}\n")
        return EX_USAGE
    django.setup()
    _report_progress_on_stdout()
    try:
        sys.stdout.write(f"entrypoint: {migrate(timeout, then)}\n")
    except MigrationLockTimeout as error:
        sys.stderr.write(f"entrypoint: error: {error} (MIGRATE_LOCK_TIMEOUT={timeout}s)\n")
        return EX_UNAVAILABLE
    return 0


def _report_progress_on_stdout() -> None:
    """The wait is news for whoever reads the container's log, whatever LOG_LEVEL says."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("entrypoint: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
