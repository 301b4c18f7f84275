"""Single use: record a token id once, atomically, and purge records that expired.

Two replicas behind a load balancer may receive the same token at the same moment;
the database's primary-key constraint decides which one wins, so no lock or cache is
needed. Purging happens in small batches as new rows are written (at most
PURGE_BATCH per login, far more than the one row a login adds), so no cron job is
needed and no login pays for a large backlog at once.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from ..conf import sso_settings
from ..errors import Reason, TokenRejected
from ..models import RedeemedToken
from .tokens import LoginClaims

PURGE_BATCH = 10


def redeem(claims: LoginClaims) -> None:
    """Record the token as used; raise TokenRejected(replayed) if it already was.

    The batch purge shares the insert's transaction: one commit per login instead of two
    (the commit was most of the purge's cost when a backlog of expired rows exists).
    """
    if not sso_settings.SSO_SINGLE_USE:
        return
    try:
        with transaction.atomic():
            purge_expired(limit=PURGE_BATCH)
            RedeemedToken.objects.create(jti=claims.jti, user_id=claims.user_id, expires_at=claims.expires_at)
    except IntegrityError as error:
        raise TokenRejected(Reason.REPLAYED, claims.user_id, authentic=True) from error


def purge_expired(limit: int | None = None) -> int:
    """Delete redeemed-token rows whose token can no longer verify; return how many.

    With a limit it is one DELETE of at most ``limit`` rows; on PostgreSQL rows that a
    concurrent login is already purging are skipped rather than waited for.
    """
    expired = RedeemedToken.objects.filter(expires_at__lt=timezone.now())
    if limit is None:
        deleted, _ = expired.delete()
        return deleted
    batch = expired.order_by().select_for_update(skip_locked=True).values("jti")[:limit]
    deleted, _ = RedeemedToken.objects.filter(jti__in=batch).delete()
    return deleted
