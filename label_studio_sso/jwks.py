"""Public keys that verify tokens signed elsewhere: fetched from a JWKS URL, or given as PEM/JWKS.

Every key set the product reads — a gateway's, a portal's, an OpenID provider's — goes
through one fetch (``fetch_key_set``: at most MAX_JWKS_BYTES, a timeout, the trusted CAs)
and one filter (``public_key_entries``: public signing keys only, at most MAX_KEYS).

A key set is fetched over HTTPS with a timeout and cached; an unknown ``kid``
refetches it at most once per SSO_JWKS_MIN_REFRESH seconds (a burst of made-up ``kid``
values costs one fetch, not one each); while the URL is down the keys already fetched keep
working, and a key that cannot be found is a clear refusal. PyJWT's ``PyJWKClient`` fetches
and parses; this module adds the bounds it lacks (response size, refetch interval, keeping
the last good set when a fetch fails) and drops keys no public-key verifier should hold.
"""

from __future__ import annotations

import json
import logging
import os
import ssl
import threading
import time
import urllib.request
from collections.abc import Mapping
from typing import Any
from urllib.error import URLError

import jwt
from jwt import PyJWK, PyJWKClient, PyJWKSet

from .errors import Reason, TokenRejected

logger = logging.getLogger(__name__)

FETCH_TIMEOUT_SECONDS = 5
MAX_JWKS_BYTES = 256 * 1024  # Google's and Microsoft's sets are a few KiB
MAX_KEYS = 50
KEY_SET_LIFETIME_SECONDS = 3600  # a known kid is refetched hourly too: revoked keys go
PUBLIC_KEY_TYPES = frozenset({"RSA", "EC", "OKP"})  # never "oct": no HMAC secret in a public set


def trusted_authorities() -> ssl.SSLContext:
    """The CAs every outgoing HTTPS call of the product trusts: REQUESTS_CA_BUNDLE when set (as
    Authlib's requests does for OpenID Connect, so one variable serves both), else the system's."""
    return ssl.create_default_context(cafile=os.environ.get("REQUESTS_CA_BUNDLE") or None)


class _BoundedJWKClient(PyJWKClient):
    """PyJWKClient whose fetch reads at most MAX_JWKS_BYTES."""

    def fetch_data(self) -> Any:
        # PyJWKClient refused any scheme but http(s) in __init__; settings allow http for localhost only.
        request = urllib.request.Request(url=self.uri, headers={"Accept": "application/json"})  # noqa: S310
        try:
            with urllib.request.urlopen(  # noqa: S310
                request, timeout=self.timeout, context=self.ssl_context
            ) as response:
                body = response.read(MAX_JWKS_BYTES + 1)
        except (URLError, TimeoutError, OSError, ValueError) as error:
            raise jwt.PyJWKClientConnectionError(type(error).__name__) from None
        if len(body) > MAX_JWKS_BYTES:
            raise jwt.PyJWKClientError("the key set is too large")
        try:
            return json.loads(body)
        except (ValueError, RecursionError):
            raise jwt.PyJWKClientError("the key set is not JSON") from None


def public_key_entries(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The JWKS entries a verifier may use: public signing keys (RSA, EC, OKP), at most MAX_KEYS.

    An HMAC ("oct") key, an encryption key and a private key published by mistake are left
    out, so no token can be checked against them.
    """
    entries = document.get("keys")
    if not isinstance(entries, list):
        raise ValueError("a JWKS document has a list of keys")
    return [
        entry
        for entry in entries[:MAX_KEYS]
        if isinstance(entry, dict)
        and entry.get("kty") in PUBLIC_KEY_TYPES
        and entry.get("use", "sig") == "sig"
        and "d" not in entry
    ]


def public_keys(document: Mapping[str, Any]) -> dict[str, PyJWK]:
    """The usable public signing keys of a JWKS document, by ``kid``."""
    return _by_kid(public_key_entries(document))


def _by_kid(usable: list[dict[str, Any]]) -> dict[str, PyJWK]:
    """Entries ``public_key_entries`` kept, parsed by PyJWT, by ``kid``."""
    return {key.key_id or "": key for key in (PyJWKSet(usable).keys if usable else ())}


def fetch_key_set(url: str) -> dict[str, Any]:
    """The JWKS document at ``url`` holding only its usable keys (``public_key_entries``).

    Raises PyJWKClientConnectionError when the URL cannot be read, PyJWKClientError when the
    answer is too large or not a JWKS document.
    """
    client = _BoundedJWKClient(
        url, cache_jwk_set=False, timeout=FETCH_TIMEOUT_SECONDS, ssl_context=trusted_authorities()
    )
    document = client.fetch_data()
    if not isinstance(document, dict):
        raise jwt.PyJWKClientError("the key set is not a JSON object")
    try:
        return {"keys": public_key_entries(document)}
    except ValueError:
        raise jwt.PyJWKClientError("the key set has no list of keys") from None


class KeySource:
    """Where a verifier finds the key for a token's ``kid``."""

    def key_for(self, kid: str | None) -> PyJWK:
        """The key, or TokenRejected (unknown-key, or provider-unavailable while keys cannot be had)."""
        raise NotImplementedError


class StaticKeys(KeySource):
    """Keys given in the configuration (PEM or JWKS JSON): nothing is fetched."""

    def __init__(self, keys: Mapping[str, PyJWK]) -> None:
        self.keys = dict(keys)

    def key_for(self, kid: str | None) -> PyJWK:
        return _pick(self.keys, kid)


class RemoteKeys(KeySource):
    """A JWKS URL's keys, cached, refetched within the bounds above; safe across threads."""

    def __init__(self, url: str, *, min_refresh: int) -> None:
        self.url = url
        self.min_refresh = min_refresh
        self.fetches = 0  # attempts, for tests and benchmarks
        self._keys: dict[str, PyJWK] = {}
        self._loaded_at = float("-inf")
        self._tried_at = float("-inf")
        self._last_failed = False
        self._lock = threading.Lock()

    def key_for(self, kid: str | None) -> PyJWK:
        if self._wants_fetch(kid):
            with self._lock:
                if self._wants_fetch(kid):  # another thread may have fetched meanwhile
                    self._fetch()
        if not self._keys and self._last_failed:
            raise TokenRejected(Reason.PROVIDER_UNAVAILABLE)
        try:
            return _pick(self._keys, kid)
        except TokenRejected:
            if self._last_failed:
                raise TokenRejected(Reason.PROVIDER_UNAVAILABLE) from None
            raise

    def _wants_fetch(self, kid: str | None) -> bool:
        now = time.monotonic()
        if now - self._tried_at < self.min_refresh and self._tried_at > float("-inf"):
            return False
        known = (kid or "") in self._keys or (kid is None and len(self._keys) == 1)
        return not known or now - self._loaded_at > KEY_SET_LIFETIME_SECONDS

    def _fetch(self) -> None:
        self._tried_at = time.monotonic()
        self.fetches += 1
        try:
            keys = _by_kid(fetch_key_set(self.url)["keys"])  # filtered by the fetch
        except (jwt.PyJWTError, ValueError) as error:
            self._last_failed = True
            logger.warning("key set fetch failed: url=%s error=%s", self.url, type(error).__name__)
            return
        self._keys, self._loaded_at, self._last_failed = keys, time.monotonic(), False


def _pick(keys: Mapping[str, PyJWK], kid: str | None) -> PyJWK:
    """The key named ``kid``; without a ``kid``, the only key there is."""
    if kid is None:
        if len(keys) == 1:
            return next(iter(keys.values()))
        raise TokenRejected(Reason.UNKNOWN_KEY)
    key = keys.get(kid)
    if key is None:
        raise TokenRejected(Reason.UNKNOWN_KEY)
    return key


_remote_sources: dict[tuple[str, int], RemoteKeys] = {}
_remote_lock = threading.Lock()


def keys_at(url: str, *, min_refresh: int) -> RemoteKeys:
    """The one RemoteKeys of this process for ``url``: its cache is shared by every request."""
    with _remote_lock:
        source = _remote_sources.get((url, min_refresh))
        if source is None:
            source = _remote_sources[(url, min_refresh)] = RemoteKeys(url, min_refresh=min_refresh)
        return source


def forget_key_sources() -> None:
    """Drop every cached key set (tests; a settings change in a running process)."""
    with _remote_lock:
        _remote_sources.clear()
