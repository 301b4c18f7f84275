"""Single use: record a token id once, atomically, and purge records that expired.

Two replicas behind a load balancer may receive the same token at the same moment;
the database's primary-key constraint decides which one wins, so no lock or cache is
needed. Purging happens in small batches as new rows are written, so no cron job is
needed and no login pays for a large backlog at once.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from .conf import sso_settings
from .exceptions import Reason, TokenRejected
from .models import RedeemedToken
from .tokens import LoginClaims

PURGE_BATCH = 500


def redeem(claims: LoginClaims) -> None:
    """Record the token as used; raise TokenRejected(replayed) if it already was."""
    if not sso_settings.SSO_SINGLE_USE:
        return
    purge_expired(limit=PURGE_BATCH)
    try:
        with transaction.atomic():
            RedeemedToken.objects.create(jti=claims.jti, user_id=claims.user_id, expires_at=claims.expires_at)
    except IntegrityError as error:
        raise TokenRejected(Reason.REPLAYED, claims.user_id) from error


def purge_expired(limit: int | None = None) -> int:
    """Delete redeemed-token rows whose token can no longer verify; return how many."""
    expired = RedeemedToken.objects.filter(expires_at__lt=timezone.now())
    if limit is None:
        deleted, _ = expired.delete()
        return deleted
    batch = list(expired.values_list("jti", flat=True)[:limit])
    if not batch:
        return 0
    deleted, _ = RedeemedToken.objects.filter(jti__in=batch).delete()
    return deleted
