"""The OpenID provider as Authlib's Django client sees it, with our policy on top.

Authlib does the protocol: discovery, the authorization request with state, nonce and
PKCE (S256), the code exchange, the ID token's signature and claims, userinfo. What this
module adds is policy Authlib leaves open:

- the discovery document must name the configured issuer (OpenID Connect Discovery 4.3)
  and its endpoints must use https like the issuer;
- ID tokens are verified with asymmetric algorithms only, whatever the provider
  advertises (no ``none``, no HMAC keyed with a public key);
- the provider's keys are fetched as every key set is (``jwks.fetch_key_set``: at most
  256 KiB, public signing keys only), and refetched for an unknown ``kid`` at most once per
  SSO_JWKS_MIN_REFRESH seconds (Authlib refetches on every unknown ``kid``), and the
  discovery document is re-read hourly so a provider's new endpoints are picked up;
- every call to the provider has a timeout.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any
from urllib.parse import urlsplit

from authlib.integrations.django_client import DjangoIntegration, DjangoOAuth2App
from joserfc import errors as jose_errors
from joserfc import jwt
from joserfc.jwk import KeySet
from jwt import PyJWTError

from .. import jwks
from ..algorithms import ASYMMETRIC_ALGORITHMS
from ..conf import sso_settings
from ..errors import Reason

logger = logging.getLogger(__name__)
# Authlib logs the PKCE code verifier at DEBUG; nothing of a login may reach a log line.
logging.getLogger("authlib").setLevel(logging.INFO)

CLIENT_NAME = "sso_oidc"
TIMEOUT_SECONDS = 5
STATE_LIFETIME_SECONDS = 600  # from the button to the callback: ten minutes to sign in
DISCOVERY_LIFETIME_SECONDS = 3600
RETRY_SECONDS = 60  # after a failed re-read of the discovery document
_ENDPOINTS = (
    "authorization_endpoint",
    "token_endpoint",
    "userinfo_endpoint",
    "jwks_uri",
    "end_session_endpoint",
)


class ProviderUnavailable(Exception):
    """The provider could not be asked, or answered with something we do not accept."""


class ProviderClient(DjangoOAuth2App):
    """Authlib's Django OAuth 2 client for one OpenID provider, with the policy above."""

    def __init__(self, issuer: str, **kwargs: Any) -> None:
        framework = DjangoIntegration(CLIENT_NAME)
        framework.expires_in = STATE_LIFETIME_SECONDS
        super().__init__(framework, CLIENT_NAME, **kwargs)
        self.issuer = issuer
        self._lock = threading.RLock()  # fetching keys may first re-read discovery
        self._jwks_fetched_at: float | None = None
        self.jwks_fetches = 0  # for the tests and the bench: how often the keys were fetched

    def load_server_metadata(self) -> dict[str, Any]:
        loaded_at = self.server_metadata.get("_loaded_at")
        if loaded_at is not None and time.time() - loaded_at < DISCOVERY_LIFETIME_SECONDS:
            return self.server_metadata
        with self._lock:
            loaded_at = self.server_metadata.get("_loaded_at")
            if loaded_at is not None and time.time() - loaded_at < DISCOVERY_LIFETIME_SECONDS:
                return self.server_metadata  # another thread loaded it meanwhile
            previous = dict(self.server_metadata)
            self.server_metadata.pop("_loaded_at", None)
            try:
                metadata = super().load_server_metadata()
                _check_discovery(self.issuer, metadata)
            except Exception:
                self.server_metadata.clear()
                if "_loaded_at" in previous:  # keep the last good document while the provider is down,
                    self.server_metadata.update(previous)  # and ask again in a minute, not on every request
                    self.server_metadata["_loaded_at"] = (
                        time.time() - DISCOVERY_LIFETIME_SECONDS + RETRY_SECONDS
                    )
                    return self.server_metadata
                raise
            offered = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
            metadata["id_token_signing_alg_values_supported"] = [
                alg for alg in offered if alg in ASYMMETRIC_ALGORITHMS
            ] or ["RS256"]
            if previous.get("jwks_uri") != metadata.get("jwks_uri"):
                metadata.pop("jwks", None)  # keys of the old address are not this one's
            return metadata

    def fetch_jwk_set(self, force: bool = False) -> dict[str, Any]:
        cached = self.server_metadata.get("jwks")
        if cached and not force:
            return cached
        with self._lock:
            cached = self.server_metadata.get("jwks")
            recent = (
                self._jwks_fetched_at is not None
                and time.monotonic() - self._jwks_fetched_at < sso_settings.SSO_JWKS_MIN_REFRESH
            )
            if cached and (not force or recent):
                return cached
            self._jwks_fetched_at = time.monotonic()
            self.jwks_fetches += 1
            uri = self.load_server_metadata()["jwks_uri"]
            try:
                keys = jwks.fetch_key_set(uri)
            except PyJWTError as error:
                self.server_metadata.pop("jwks", None)
                raise ProviderUnavailable(f"the provider's key set: {type(error).__name__}") from None
            self.server_metadata["jwks"] = keys
            return keys

    def decode_signed(self, raw: str) -> Any:
        """A JWT from the provider (a logout token), its signature verified with the provider's
        keys under the same pinned algorithms as ID tokens; one refetch for an unknown ``kid``."""
        algorithms = self.load_server_metadata()["id_token_signing_alg_values_supported"]
        try:
            return jwt.decode(raw, KeySet.import_key_set(self.fetch_jwk_set()), algorithms=algorithms)
        except jose_errors.InvalidKeyIdError:
            return jwt.decode(
                raw, KeySet.import_key_set(self.fetch_jwk_set(force=True)), algorithms=algorithms
            )


def jose_refusal_reason(error: Exception) -> str:
    """The refusal reason for a token from the provider that failed a check."""
    if isinstance(error, jose_errors.ExpiredTokenError):
        return Reason.EXPIRED
    if isinstance(error, jose_errors.MissingClaimError):
        return Reason.NONCE_MISMATCH if error.claim == "nonce" else Reason.MISSING_CLAIM
    if isinstance(error, jose_errors.InvalidClaimError):
        return {
            "iss": Reason.WRONG_ISSUER,
            "aud": Reason.WRONG_AUDIENCE,
            "azp": Reason.WRONG_AUDIENCE,
            "nonce": Reason.NONCE_MISMATCH,
            "nbf": Reason.NOT_YET_VALID,
            "iat": Reason.NOT_YET_VALID,
        }.get(error.claim, Reason.INVALID_CLAIM)
    if isinstance(error, jose_errors.InvalidKeyIdError | jose_errors.MissingKeyError):
        return Reason.UNKNOWN_KEY
    if isinstance(
        error,
        jose_errors.UnsupportedAlgorithmError
        | jose_errors.MissingAlgorithmError
        | jose_errors.KeyParameterError,
    ):
        return Reason.ALGORITHM
    if isinstance(error, jose_errors.BadSignatureError):
        return Reason.BAD_SIGNATURE
    return Reason.MALFORMED


def _check_discovery(issuer: str, metadata: Any) -> None:
    if not isinstance(metadata, dict):
        raise ProviderUnavailable("the discovery document is not a JSON object")
    if metadata.get("issuer") != issuer:
        raise ProviderUnavailable("the discovery document names another issuer")
    scheme = urlsplit(issuer).scheme
    for name in _ENDPOINTS:
        value = metadata.get(name)
        if value is None and name in ("userinfo_endpoint", "end_session_endpoint"):
            continue
        if not isinstance(value, str) or urlsplit(value).scheme != scheme:
            raise ProviderUnavailable(f"the discovery document's {name} is missing or not {scheme}")


_clients: dict[tuple[Any, ...], ProviderClient] = {}
_clients_lock = threading.Lock()


def is_enabled() -> bool:
    """Whether OpenID Connect is configured (SSO_OIDC_ISSUER is set)."""
    return sso_settings.SSO_OIDC_ISSUER is not None


def provider_client() -> ProviderClient:
    """The client for the configured provider, one per process and configuration.

    Discovery and keys are fetched when first needed, not here: a provider that is down
    when Label Studio starts must not keep it from starting.
    """
    issuer = sso_settings.SSO_OIDC_ISSUER
    if issuer is None:
        raise ProviderUnavailable("OpenID Connect is not configured")
    key = (
        issuer,
        sso_settings.SSO_OIDC_CLIENT_ID,
        sso_settings.SSO_OIDC_CLIENT_SECRET,
        sso_settings.SSO_OIDC_SCOPES,
    )
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            _clients.clear()
            client = _clients[key] = ProviderClient(
                issuer,
                client_id=sso_settings.SSO_OIDC_CLIENT_ID,
                client_secret=sso_settings.SSO_OIDC_CLIENT_SECRET,
                server_metadata_url=issuer.rstrip("/") + "/.well-known/openid-configuration",
                client_kwargs={
                    "scope": " ".join(sso_settings.SSO_OIDC_SCOPES),
                    "code_challenge_method": "S256",
                    "default_timeout": TIMEOUT_SECONDS,
                },
            )
        return client


def forget_clients() -> None:
    """Drop the cached clients (their discovery document and keys), e.g. after a settings change."""
    with _clients_lock:
        _clients.clear()
