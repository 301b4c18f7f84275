"""Single use: the redeemed-token table, its atomic insert and its purge."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client, override_settings
from django.utils import timezone

from label_studio_sso.errors import Reason, TokenRejected
from label_studio_sso.login_tokens import verify_login_token
from label_studio_sso.models import RedeemedToken
from label_studio_sso.portal.redemption import PURGE_BATCH, purge_expired, redeem
from label_studio_sso.portal.tokens import issue_login_token
from tests.support.label_studio import whoami


def test_a_redeemed_token_is_recorded_once_and_refused_the_second_time(alice: Any) -> None:
    claims = verify_login_token(issue_login_token(alice.pk, alice.email).token)
    redeem(claims, alice.pk)

    with pytest.raises(TokenRejected) as rejected:
        redeem(claims, alice.pk)

    assert rejected.value.reason == Reason.REPLAYED
    record = RedeemedToken.objects.get(jti=claims.jti)
    assert record.user_id == alice.pk
    assert record.expires_at >= claims.expires_at - timedelta(seconds=1)
    assert str(alice.pk) in str(record)


@override_settings(SSO_SINGLE_USE=False)
def test_without_single_use_a_token_works_until_it_expires(issue: Any, alice: Any) -> None:
    token = issue("alice@example.com")
    first, second = Client(), Client()
    first.get(f"/?token={token}")
    second.get(f"/?token={token}")
    assert whoami(first) == whoami(second) == "alice@example.com"
    assert not RedeemedToken.objects.exists()


def _records(count: int, *, expired: bool) -> None:
    moment = timezone.now() + (timedelta(seconds=-60) if expired else timedelta(seconds=600))
    RedeemedToken.objects.bulk_create(
        [
            RedeemedToken(jti=f"{'old' if expired else 'new'}-{index:020d}", user_id=1, expires_at=moment)
            for index in range(count)
        ]
    )


def test_redeeming_purges_a_batch_of_expired_records(alice: Any) -> None:
    _records(PURGE_BATCH + 20, expired=True)
    _records(5, expired=False)

    redeem(verify_login_token(issue_login_token(alice.pk, alice.email).token), alice.pk)

    assert RedeemedToken.objects.filter(expires_at__lt=timezone.now()).count() == 20
    assert RedeemedToken.objects.filter(expires_at__gte=timezone.now()).count() == 6


def test_purge_without_a_limit_deletes_every_expired_record_and_nothing_else() -> None:
    _records(30, expired=True)
    _records(3, expired=False)
    assert purge_expired() == 30
    assert purge_expired(limit=10) == 0
    assert RedeemedToken.objects.count() == 3
