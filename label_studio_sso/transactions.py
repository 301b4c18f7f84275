"""One transaction for a login's writes, run again when SQLite says another writer holds its lock.

SQLite lets one writer in at a time. A transaction that has read and then wants to write
while another holds the write lock is refused at once ("database is locked"): waiting
could deadlock, so SQLite does not use its busy timeout there. Twelve browsers signing in
as one new person at once all read "no such user", then all try to create it: one wins and
the others were refused with a 503. Run again, each finds the winner's user.

Only the outermost transaction is run again (an inner one cannot undo what its caller
did), only for that lock conflict, and only a few times; anything else goes to the caller.
PostgreSQL needs none of this: a concurrent insert there is an IntegrityError that
provisioning answers by reading the winner's row.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

from django.contrib.auth import get_user_model
from django.db import OperationalError, connections, router, transaction

logger = logging.getLogger(__name__)

T = TypeVar("T")
MAX_ATTEMPTS = 12
BACKOFF_SECONDS = 0.025  # times the attempt number, jittered: about 1.7 s over all attempts


def in_one_transaction(block: Callable[[], T]) -> T:
    """``block()`` inside ``transaction.atomic()``, run again while SQLite's write lock is taken."""
    alias = router.db_for_write(get_user_model())
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            with transaction.atomic(using=alias):
                return block()
        except OperationalError as error:
            if attempt == MAX_ATTEMPTS or not _is_lock_conflict(alias, error):
                raise
        logger.info("sqlite write lock taken by another request; trying again (attempt %d)", attempt + 1)
        time.sleep(random.uniform(0.5, 1.5) * BACKOFF_SECONDS * attempt)  # noqa: S311  (jitter, not a secret)
    raise AssertionError("unreachable")  # pragma: no cover


def _is_lock_conflict(alias: str, error: OperationalError) -> bool:
    connection = connections[alias]
    return (
        connection.vendor == "sqlite"
        and not connection.in_atomic_block  # the caller's transaction is not ours to run again
        and "locked" in str(error)
    )
