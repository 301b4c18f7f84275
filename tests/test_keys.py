"""Signing keys: derived for this purpose only, rotated the Django way."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings

from label_studio_sso.errors import Reason, TokenRejected
from label_studio_sso.login_tokens import verify_login_token
from label_studio_sso.portal.keys import derive_key, signing_key, verification_keys
from label_studio_sso.portal.tokens import issue_login_token
from tests.support.label_studio import TEST_SECRET_KEY

CONFIGURED = "configured-signing-key-for-tests-0123456789abcdef"
OLD = "old-signing-key-that-was-rotated-out-0123456789abcdef"


def test_the_default_key_is_derived_and_is_not_secret_key() -> None:
    key = signing_key()
    assert key.secret == derive_key(TEST_SECRET_KEY)
    assert key.secret != TEST_SECRET_KEY.encode()
    assert len(key.secret) == 32
    assert key.secret.hex() not in repr(key)


def test_a_configured_key_signs_instead_of_the_derived_one() -> None:
    with override_settings(SSO_SIGNING_KEY=CONFIGURED):
        assert signing_key().secret == CONFIGURED.encode()
        assert next(iter(verification_keys())) == signing_key().kid
    assert signing_key().secret == derive_key(TEST_SECRET_KEY)


def test_a_previous_key_still_verifies_after_rotation(alice: Any) -> None:
    with override_settings(SSO_SIGNING_KEY=OLD):
        token = issue_login_token(alice.pk, alice.email).token
    with override_settings(SSO_SIGNING_KEY=CONFIGURED, SSO_PREVIOUS_SIGNING_KEYS=OLD):
        assert verify_login_token(token).user_id == alice.pk


def test_a_retired_key_no_longer_verifies(alice: Any) -> None:
    with override_settings(SSO_SIGNING_KEY=OLD):
        token = issue_login_token(alice.pk, alice.email).token
    with override_settings(SSO_SIGNING_KEY=CONFIGURED), pytest.raises(TokenRejected) as rejected:
        verify_login_token(token)
    assert rejected.value.reason == Reason.UNKNOWN_KEY


def test_tokens_survive_a_secret_key_rotation_through_secret_key_fallbacks(alice: Any) -> None:
    token = issue_login_token(alice.pk, alice.email).token
    new_secret = "a-brand-new-secret-key-for-this-instance-0123456789"
    with override_settings(SECRET_KEY=new_secret, SECRET_KEY_FALLBACKS=[TEST_SECRET_KEY]):
        assert verify_login_token(token).user_id == alice.pk
    with override_settings(SECRET_KEY=new_secret, SECRET_KEY_FALLBACKS=[]), pytest.raises(TokenRejected):
        verify_login_token(token)
