"""The tables shared by every worker and replica: redeemed tokens, the rate limit, session stamps."""

from __future__ import annotations

from django.conf import settings
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


class SessionStamp(models.Model):
    """Each user's current session stamp: a session carrying another one has been ended.

    Label Studio keeps sessions in signed cookies, which the server cannot delete. Every
    session records the stamp its user had when it began; writing a new stamp ends all of
    them at once, on every replica. A user without a row has the empty stamp.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="sso_session_stamp",
    )
    stamp = models.CharField(max_length=32)
    changed_at = models.DateTimeField()

    class Meta:
        verbose_name = "SSO session stamp"

    def __str__(self) -> str:
        return f"session stamp of user {self.user_id}"


class OidcSession(models.Model):
    """A login through OpenID Connect: which user the provider's ``sub`` and ``sid`` are.

    The provider's back-channel logout names a session (``sid``) or a user (``sub``); these
    rows turn either into the Label Studio user whose sessions are then ended. Rows older
    than a session can live are purged as new ones are written.
    """

    issuer = models.CharField(max_length=500)
    subject = models.CharField(max_length=255)
    sid = models.CharField(max_length=255, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sso_oidc_sessions"
    )
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = "SSO OpenID Connect login"
        indexes = [
            models.Index(fields=["issuer", "sid"], name="lsso_oidc_issuer_sid"),
            models.Index(fields=["issuer", "subject"], name="lsso_oidc_issuer_subject"),
        ]

    def __str__(self) -> str:
        return f"OpenID Connect login of user {self.user_id}"


class ScimAccount(models.Model):
    """What SCIM knows of a Label Studio user beyond its columns: the provider's names for it.

    ``user_name`` is the provider's ``userName`` as sent (``user_name_key`` its comparison form,
    unique); ``external_id`` its ``externalId``; ``email_type`` and
    ``email_primary`` what it said of the email. ``deleted_at`` marks a SCIM DELETE: the user is
    deactivated, kept with every annotation, and answers 404 to SCIM until created again. A
    user SCIM never wrote has no row: its ``userName`` is its email.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, primary_key=True, on_delete=models.CASCADE, related_name="sso_scim_account"
    )
    user_name = models.CharField(max_length=255)
    user_name_key = models.CharField(max_length=255, unique=True)
    external_id = models.CharField(max_length=255, null=True, blank=True)
    email_type = models.CharField(max_length=32, blank=True)
    email_primary = models.BooleanField(null=True)
    updated_at = models.DateTimeField()
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "SSO SCIM account"

    def __str__(self) -> str:
        return f"SCIM account of user {self.user_id}"


class ScimGroup(models.Model):
    """A group an identity provider pushed over SCIM; its members' staff flags follow SSO_STAFF_GROUPS."""

    display_name = models.CharField(max_length=255)
    display_name_key = models.CharField(max_length=255, unique=True)
    external_id = models.CharField(max_length=255, null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="sso_scim_groups", blank=True)

    class Meta:
        verbose_name = "SSO SCIM group"

    def __str__(self) -> str:
        return f"SCIM group {self.pk}"
