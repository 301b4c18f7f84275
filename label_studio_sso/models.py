"""The redeemed-token table that makes login tokens single use across replicas."""

from __future__ import annotations

from django.db import models


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
