"""Signing keys for login tokens: which key signs, which keys verify, and their ids.

Label Studio signs its own JWTs (Personal Access Tokens) with the raw SECRET_KEY, so a
login token must never be signed with it: the default key is derived from SECRET_KEY
for this one purpose. Rotation follows Django's own pattern: the current key signs,
SSO_PREVIOUS_SIGNING_KEYS and keys derived from SECRET_KEY_FALLBACKS only verify.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.utils.crypto import salted_hmac

from ..conf import sso_settings

DERIVATION_SALT = "label_studio_sso.keys.login-token-signing-key"


@dataclass(frozen=True)
class SigningKey:
    """A secret and its public id (the JWT ``kid`` header)."""

    kid: str
    secret: bytes

    def __repr__(self) -> str:  # never print the secret, even in a traceback
        return f"SigningKey(kid={self.kid!r})"


def derive_key(secret_key: str | bytes) -> bytes:
    """A 32-byte key for login tokens only, derived from a Django SECRET_KEY."""
    return salted_hmac(DERIVATION_SALT, "v1", secret=secret_key, algorithm="sha256").digest()


def key_id(secret: bytes) -> str:
    """A short public id for a key: a truncated hash that reveals nothing usable."""
    return hashlib.sha256(b"label-studio-sso kid\x00" + secret).hexdigest()[:16]


def _key(secret: bytes) -> SigningKey:
    return SigningKey(kid=key_id(secret), secret=secret)


def signing_key() -> SigningKey:
    """The key that signs new login tokens."""
    configured = sso_settings.SSO_SIGNING_KEY
    return _key(configured if configured is not None else derive_key(settings.SECRET_KEY))


def verification_keys() -> dict[str, SigningKey]:
    """Every key a login token may be signed with, by kid; the current key first."""
    secrets = [signing_key().secret, *sso_settings.SSO_PREVIOUS_SIGNING_KEYS]
    secrets += [derive_key(old) for old in getattr(settings, "SECRET_KEY_FALLBACKS", ())]
    keys: dict[str, SigningKey] = {}
    for secret in secrets:
        key = _key(secret)
        keys.setdefault(key.kid, key)
    return keys
