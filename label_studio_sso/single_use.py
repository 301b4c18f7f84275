"""Spend a one-time value once, on every replica: a login token's id, a login's state, a logout token.

Two replicas behind a load balancer may receive the same value at the same moment; the
database's primary-key constraint decides which one wins, so no lock or cache is needed.
Purging happens in small batches as new rows are written (at most PURGE_BATCH per spend,
far more than the one row a spend adds), so no cron job is needed and no login pays for a
large backlog at once.
"""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import RedeemedToken

PURGE_BATCH = 10


def spend_once(key: str, *, user_id: int, expires_at: datetime) -> bool:
    """Record ``key`` (at most 64 characters) as spent; False if it already was.

    The batch purge shares the insert's transaction: one commit per spend instead of two
    (the commit was most of the purge's cost when a backlog of expired rows exists).
    """
    try:
        with transaction.atomic():
            purge_expired(limit=PURGE_BATCH)
            RedeemedToken.objects.create(jti=key, user_id=user_id, expires_at=expires_at)
    except IntegrityError:
        return False
    return True


def purge_expired(limit: int | None = None) -> int:
    """Delete spent-value rows that can no longer matter (their value expired); return how many.

    With a limit it is one DELETE of at most ``limit`` rows; on PostgreSQL rows that a
    concurrent spend is already purging are skipped rather than waited for.
    """
    expired = RedeemedToken.objects.filter(expires_at__lt=timezone.now())
    if limit is None:
        deleted, _ = expired.delete()
        return deleted
    batch = expired.order_by().select_for_update(skip_locked=True).values("jti")[:limit]
    deleted, _ = RedeemedToken.objects.filter(jti__in=batch).delete()
    return deleted
