"""The tables shared by every worker and replica: redeemed tokens and the rate limit."""

from __future__ import annotations

from django.db import models

from .conf import RATE_LIMIT_TABLE


class RedeemedToken(models.Model):
    """One row per redeemed login token; the primary key makes a second insert fail."""

    jti = models.CharField(max_length=64, primary_key=True)
    user_id = models.BigIntegerField()
    redeemed_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = "redeemed SSO login token"

    def __str__(self) -> str:
        return f"redeemed login token of user {self.user_id}"


class RateLimitRecord(models.Model):
    """The token API's rate-limit history, in the layout Django's DatabaseCache reads.

    Label Studio configures no shared cache, so Django's default one lives in each
    process: N gunicorn workers would allow N times the limit. The overlay points a
    DatabaseCache at this table (created by a migration, not by createcachetable), so
    every worker and every replica on the same database shares one limit.
    """

    cache_key = models.CharField(max_length=255, primary_key=True)
    value = models.TextField()
    expires = models.DateTimeField(db_index=True)

    class Meta:
        db_table = RATE_LIMIT_TABLE
        verbose_name = "SSO token API rate-limit record"
