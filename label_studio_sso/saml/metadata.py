"""The identity provider's metadata: its entity id, sign-in and logout URLs and certificates.

From SSO_SAML_IDP_METADATA_FILE (read once per process) or SSO_SAML_IDP_METADATA_URL,
fetched like a key set (``jwks``): over HTTPS with a timeout, at most MAX_METADATA_BYTES,
kept for METADATA_LIFETIME_SECONDS, and refetched after a failure at most once per
SSO_JWKS_MIN_REFRESH seconds; while the URL is down the metadata already read keeps
working. python3-saml parses it (no DTD, no entities); only signing certificates are kept.
"""

from __future__ import annotations

import logging
import threading
import time
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.error import URLError

from onelogin.saml2.constants import OneLogin_Saml2_Constants
from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser

from ..conf import sso_settings
from ..jwks import FETCH_TIMEOUT_SECONDS, trusted_authorities

logger = logging.getLogger(__name__)

MAX_METADATA_BYTES = 1024 * 1024  # Entra ID's federation metadata is about 20 KiB
METADATA_LIFETIME_SECONDS = 3600  # a certificate the provider drops stops working within an hour


class MetadataUnavailable(Exception):
    """The provider's metadata cannot be read or does not describe a usable provider."""


@dataclass(frozen=True)
class ProviderMetadata:
    """What python3-saml needs about the provider, as its ``idp`` settings."""

    entity_id: str
    settings: dict[str, Any]

    @property
    def logout_url(self) -> str | None:
        """The provider's single logout URL (HTTP-Redirect binding), if it offers one."""
        return self.settings.get("singleLogoutService", {}).get("url") or None


def is_enabled() -> bool:
    """Whether SAML is configured (a metadata URL or file)."""
    return bool(sso_settings.SSO_SAML_IDP_METADATA_URL or sso_settings.SSO_SAML_IDP_METADATA_FILE)


def parse_metadata(document: bytes | str) -> ProviderMetadata:
    """The provider described by ``document``; MetadataUnavailable if it describes none usable."""
    try:
        parsed = OneLogin_Saml2_IdPMetadataParser.parse(
            document, required_sso_binding=OneLogin_Saml2_Constants.BINDING_HTTP_REDIRECT
        )
    except Exception as error:
        raise MetadataUnavailable(type(error).__name__) from None
    idp = parsed.get("idp") or {}
    entity_id = idp.get("entityId")
    certificates = _signing_certificates(idp)
    if not isinstance(entity_id, str) or not entity_id or not certificates:
        raise MetadataUnavailable("no entity id, or no signing certificate")
    if not idp.get("singleSignOnService", {}).get("url"):
        raise MetadataUnavailable("no HTTP-Redirect sign-in service")
    settings = {key: value for key, value in idp.items() if key not in ("x509cert", "x509certMulti")}
    settings["x509certMulti"] = {"signing": certificates, "encryption": []}
    return ProviderMetadata(entity_id=entity_id, settings=settings)


def _signing_certificates(idp: dict[str, Any]) -> list[str]:
    multi = idp.get("x509certMulti")
    if isinstance(multi, dict):
        return [cert for cert in multi.get("signing", []) if isinstance(cert, str) and cert]
    single = idp.get("x509cert")
    return [single] if isinstance(single, str) and single else []


class _MetadataSource:
    """The metadata of one URL or file, cached; a fetch that fails keeps the last good one."""

    def __init__(self, url: str | None, path: str | None) -> None:
        self.url, self.path = url, path
        self._lock = threading.Lock()
        self._metadata: ProviderMetadata | None = None
        self._fetched_at = 0.0
        self._failed_at = 0.0

    def current(self) -> ProviderMetadata:
        with self._lock:
            now = time.monotonic()
            stale = self._metadata is None or (
                self.url and now - self._fetched_at > METADATA_LIFETIME_SECONDS
            )
            resting = now - self._failed_at < sso_settings.SSO_JWKS_MIN_REFRESH
            if stale and not (self._failed_at and resting):
                try:
                    self._metadata, self._fetched_at = parse_metadata(self._read()), now
                    self._failed_at = 0.0
                except MetadataUnavailable as error:
                    self._failed_at = now
                    logger.warning(
                        "SAML metadata could not be read (%s); keeping what was read before", error
                    )
            if self._metadata is None:
                raise MetadataUnavailable("never read")
            return self._metadata

    def _read(self) -> bytes:
        if self.path:
            try:
                with open(self.path, "rb") as file:
                    body = file.read(MAX_METADATA_BYTES + 1)
            except OSError as error:
                raise MetadataUnavailable(type(error).__name__) from None
        else:
            body = _fetch(str(self.url))
        if len(body) > MAX_METADATA_BYTES:
            raise MetadataUnavailable(f"larger than {MAX_METADATA_BYTES} bytes")
        return body


def _fetch(url: str) -> bytes:
    # The setting allows https, and http for localhost names only.
    request = urllib.request.Request(url=url, headers={"Accept": "application/samlmetadata+xml, */*"})  # noqa: S310
    try:
        with urllib.request.urlopen(  # noqa: S310
            request, timeout=FETCH_TIMEOUT_SECONDS, context=trusted_authorities()
        ) as response:
            return response.read(MAX_METADATA_BYTES + 1)
    except (URLError, TimeoutError, OSError, ValueError) as error:
        raise MetadataUnavailable(type(error).__name__) from None


_sources: dict[tuple[str | None, str | None], _MetadataSource] = {}
_sources_lock = threading.Lock()


def provider_metadata() -> ProviderMetadata:
    """The configured provider's metadata; MetadataUnavailable if it was never read."""
    key = (sso_settings.SSO_SAML_IDP_METADATA_URL, sso_settings.SSO_SAML_IDP_METADATA_FILE)
    with _sources_lock:
        source = _sources.get(key)
        if source is None:
            source = _sources[key] = _MetadataSource(*key)
    return source.current()


def forget_metadata() -> None:
    """Drop every cached metadata (tests, and a settings change)."""
    with _sources_lock:
        _sources.clear()
