"""The image's migration step: one replica at a time, never a transaction held while waiting."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.db.utils import ConnectionHandler

from label_studio_sso.container import migrate as migration
from label_studio_sso.container.migrate import MigrationLockTimeout, advisory_lock, main

LOCK_ID = 424242


@pytest.fixture(autouse=True)
def _restore_the_module_logger() -> Iterator[None]:
    """main() points the module's logger at stdout, as the entrypoint wants; undo it after."""
    state = (list(migration.logger.handlers), migration.logger.level, migration.logger.propagate)
    yield
    migration.logger.handlers[:], migration.logger.level, migration.logger.propagate = state


@pytest.fixture
def pg_connection(postgres: Any) -> Iterator[Any]:
    """A Django connection to the test PostgreSQL, as create_connection() makes one."""
    connection = ConnectionHandler({"default": _django_database(postgres)})["default"]
    yield connection
    connection.close()


def _django_database(postgres: Any) -> dict[str, Any]:
    return {
        "ENGINE": "django.db.backends.postgresql",
        "HOST": "127.0.0.1",
        "PORT": str(postgres.port),
        "NAME": "postgres",
        "USER": "postgres",
        "PASSWORD": postgres.PASSWORD,
    }


def _lock_is_free(postgres: Any, lock_id: int = LOCK_ID) -> bool:
    with postgres.session() as other:
        taken = other.execute("SELECT pg_try_advisory_lock(%s)", [lock_id])[0][0]
        if taken:
            other.execute("SELECT pg_advisory_unlock(%s)", [lock_id])
        return bool(taken)


def test_a_free_lock_is_held_for_the_block_and_released_after(postgres: Any, pg_connection: Any) -> None:
    with advisory_lock(pg_connection, LOCK_ID, timeout=5):
        assert not _lock_is_free(postgres)
    assert _lock_is_free(postgres)


def test_the_lock_is_released_when_the_block_fails(postgres: Any, pg_connection: Any) -> None:
    with pytest.raises(RuntimeError), advisory_lock(pg_connection, LOCK_ID, timeout=5):
        raise RuntimeError("migration failed")
    assert _lock_is_free(postgres)


class PollCounter:
    """Counts the waiter's polls (each still takes the real ``pg_try_advisory_lock``)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.failed = 0
        self.first_failure = threading.Event()
        self.polled = threading.Condition()
        real = migration._try_lock

        def counted(connection: Any, lock_id: int) -> bool:
            taken = real(connection, lock_id)
            if not taken:
                with self.polled:
                    self.failed += 1
                    self.polled.notify_all()
                self.first_failure.set()
            return taken

        monkeypatch.setattr(migration, "_try_lock", counted)

    def polls_again(self, after: int, timeout: float) -> bool:
        """Wait until the waiter has been refused more than ``after`` times."""
        with self.polled:
            return self.polled.wait_for(lambda: self.failed > after, timeout=timeout)


def test_a_waiter_says_so_and_proceeds_when_the_holder_lets_go(
    postgres: Any, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    polls = PollCounter(monkeypatch)
    acquired = threading.Event()
    holder = postgres.session()
    holder.execute("SELECT pg_advisory_lock(%s)", [LOCK_ID])
    with caplog.at_level(logging.INFO, logger="label_studio_sso.container.migrate"):
        waiter = threading.Thread(target=_wait_for_lock, args=(postgres, acquired))
        waiter.start()
        assert polls.first_failure.wait(timeout=10)  # it asked, and was refused
        assert not acquired.is_set()
        holder.close()  # the holder's session ends: its lock goes with it
        waiter.join(timeout=10)
    assert acquired.is_set()
    assert "another replica is migrating; waiting for its lock" in caplog.text


def test_a_lock_held_too_long_gives_up_with_a_clear_error(postgres: Any, pg_connection: Any) -> None:
    with postgres.session() as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", [LOCK_ID])
        with (
            pytest.raises(MigrationLockTimeout, match=f"migration lock {LOCK_ID} for more than 0.3s"),
            advisory_lock(pg_connection, LOCK_ID, timeout=0.3, poll=0.05),
        ):
            pytest.fail("the block must not run without the lock")


def test_a_waiting_replica_does_not_stall_the_migrating_ones_concurrent_index_builds(
    postgres: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Label Studio's migrations run CREATE INDEX CONCURRENTLY, which waits for older transactions.

    The waiter polls in autocommit, so no transaction of its own is ever open for the
    index build to wait on.
    """
    polls = PollCounter(monkeypatch)
    acquired = threading.Event()
    with postgres.session() as migrating:
        migrating.execute("SELECT pg_advisory_lock(%s)", [LOCK_ID])
        waiter = threading.Thread(target=_wait_for_lock, args=(postgres, acquired), daemon=True)
        waiter.start()
        assert polls.first_failure.wait(timeout=10)  # the waiter is polling
        migrating.execute("CREATE TABLE IF NOT EXISTS lsso_migrate_probe (id integer)")
        migrating.execute("SET statement_timeout = '10s'")
        for attempt in range(20):  # many builds, each finished while the waiter keeps polling
            polled_before = polls.failed
            migrating.execute(f"CREATE INDEX CONCURRENTLY lsso_probe_{attempt} ON lsso_migrate_probe (id)")
            assert polls.polls_again(polled_before, timeout=10)  # it was polling, and no build stalled
        migrating.execute("DROP TABLE lsso_migrate_probe")
        assert not acquired.is_set()
    waiter.join(timeout=10)
    assert acquired.is_set()


def _wait_for_lock(postgres: Any, acquired: threading.Event) -> None:
    connection = ConnectionHandler({"default": _django_database(postgres)})["default"]
    try:
        with advisory_lock(connection, LOCK_ID, timeout=30, poll=0.01):
            acquired.set()
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_the_command_migrates_sqlite_without_a_lock(capsys: pytest.CaptureFixture[str]) -> None:
    assert main({}) == 0
    assert capsys.readouterr().out == "entrypoint: migrated SQLite\n"


def test_the_command_refuses_a_bad_timeout_before_touching_the_database(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main({"MIGRATE_LOCK_TIMEOUT": "soon"}) == 64
    assert "MIGRATE_LOCK_TIMEOUT='soon'" in capsys.readouterr().err


def test_the_command_exits_69_when_another_migration_never_ends(
    postgres: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.db import connections

    monkeypatch.setattr(migration, "connections", ConnectionHandler({"default": _django_database(postgres)}))
    with postgres.session() as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", [migration.DEFAULT_LOCK_ID])
        assert main({"MIGRATE_LOCK_TIMEOUT": "0"}) == 69
    assert "another process held the migration lock 1000 for more than 0s" in capsys.readouterr().err
    assert connections["default"].vendor == "sqlite"  # the test database was never touched


@pytest.mark.django_db(transaction=True)
def test_the_first_user_is_made_while_the_migration_lock_is_still_held(
    postgres: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Label Studio makes an organization when it finds none: two replicas doing that after
    the lock would make two. (The lock is taken on PostgreSQL; migrate itself runs on the
    already-migrated test database, so it has nothing to do.)"""
    monkeypatch.setattr(migration, "connections", ConnectionHandler({"default": _django_database(postgres)}))
    lock_free_during_first_user: list[bool] = []

    migration.migrate(
        5, then=lambda: lock_free_during_first_user.append(_lock_is_free(postgres, migration.DEFAULT_LOCK_ID))
    )

    assert lock_free_during_first_user == [False]
    assert _lock_is_free(postgres, migration.DEFAULT_LOCK_ID)
