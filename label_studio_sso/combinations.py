"""Settings that only make sense together: one list of rules for the image's start and Django's checks.

Each rule returns (check id, what is wrong, how to fix it); the image stops on the first
with exit 64, ``manage.py check`` reports them all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Problem = tuple[str, str, str]

_PLAIN_HEADERS = ("SSO_PROXY_EMAIL_HEADER", "SSO_PROXY_NAME_HEADER", "SSO_PROXY_GROUPS_HEADER")
_ASSERTION = ("SSO_PROXY_JWKS_URL", "SSO_PROXY_JWT_AUDIENCE", "SSO_PROXY_JWT_ISSUER")


def combination_problems(value: Callable[[str], Any]) -> list[Problem]:
    """What is wrong with the settings ``value(name)`` returns (typed, defaults included)."""
    problems: list[Problem] = []
    if value("SSO_OIDC_ISSUER") and not (value("SSO_OIDC_CLIENT_ID") and value("SSO_OIDC_CLIENT_SECRET")):
        problems.append(
            (
                "E009",
                "SSO_OIDC_ISSUER is set without SSO_OIDC_CLIENT_ID and SSO_OIDC_CLIENT_SECRET.",
                "Set both to the client the provider registered for Label Studio "
                "(the secret may come from SSO_OIDC_CLIENT_SECRET_FILE).",
            )
        )
    gateway_headers = [name for name in (*_PLAIN_HEADERS, "SSO_PROXY_JWT_HEADER") if value(name)]
    if gateway_headers and not value("SSO_TRUSTED_PROXIES"):
        problems.append(
            (
                "E012",
                f"{gateway_headers[0]} is set without SSO_TRUSTED_PROXIES: no gateway would be trusted.",
                "Set SSO_TRUSTED_PROXIES to the gateway's addresses (CIDR blocks).",
            )
        )
    if (value("SSO_PROXY_NAME_HEADER") or value("SSO_PROXY_GROUPS_HEADER")) and not (
        value("SSO_PROXY_EMAIL_HEADER") or value("SSO_PROXY_JWT_HEADER")
    ):
        problems.append(
            (
                "E012",
                "SSO_PROXY_NAME_HEADER or SSO_PROXY_GROUPS_HEADER is set without SSO_PROXY_EMAIL_HEADER.",
                "Set SSO_PROXY_EMAIL_HEADER to the header that carries the user's email address.",
            )
        )
    missing = [name for name in _ASSERTION if not value(name)]
    if value("SSO_PROXY_JWT_HEADER") and missing:
        problems.append(
            (
                "E013",
                f"SSO_PROXY_JWT_HEADER is set without {', '.join(missing)}: assertions cannot be verified.",
                "Set the gateway's key URL, the audience it signs for and the issuer it signs as.",
            )
        )
    gateway = value("SSO_TRUSTED_PROXIES") and (
        value("SSO_PROXY_EMAIL_HEADER") or value("SSO_PROXY_JWT_HEADER")
    )
    if value("SSO_PROXY_REQUIRED") and not gateway:
        problems.append(
            (
                "E018",
                "SSO_PROXY_REQUIRED is true without a gateway: every request would be refused.",
                "Configure the gateway (SSO_TRUSTED_PROXIES and SSO_PROXY_EMAIL_HEADER or "
                "SSO_PROXY_JWT_HEADER), or unset SSO_PROXY_REQUIRED.",
            )
        )
    url, keys = value("SSO_ISSUER_JWKS_URL"), value("SSO_ISSUER_PUBLIC_KEYS")
    if url and keys:
        problems.append(
            (
                "E014",
                "SSO_ISSUER_JWKS_URL and SSO_ISSUER_PUBLIC_KEYS are both set.",
                "Give the portal's public keys one way: a URL or the keys themselves.",
            )
        )
    named = [name for name in ("SSO_ISSUER", "SSO_ISSUER_AUDIENCE") if value(name)]
    if (url or keys) and len(named) < 2:
        problems.append(
            (
                "E014",
                "Portal keys are set without SSO_ISSUER and SSO_ISSUER_AUDIENCE: both are required.",
                "Set SSO_ISSUER and SSO_ISSUER_AUDIENCE to the iss and aud the portal signs.",
            )
        )
    elif named and not (url or keys):
        problems.append(
            (
                "E014",
                f"{named[0]} is set without SSO_ISSUER_JWKS_URL or SSO_ISSUER_PUBLIC_KEYS.",
                "Give the portal's public keys, or unset SSO_ISSUER and SSO_ISSUER_AUDIENCE.",
            )
        )
    return problems + _saml_problems(value)


def _saml_problems(value: Callable[[str], Any]) -> list[Problem]:
    problems: list[Problem] = []
    if value("SSO_SAML_IDP_METADATA_URL") and value("SSO_SAML_IDP_METADATA_FILE"):
        problems.append(
            (
                "E019",
                "SSO_SAML_IDP_METADATA_URL and SSO_SAML_IDP_METADATA_FILE are both set.",
                "Give the identity provider's metadata one way: a URL or a file.",
            )
        )
    certificates, key = value("SSO_SAML_SP_CERT"), value("SSO_SAML_SP_KEY")
    if bool(certificates) != bool(key):
        problems.append(
            (
                "E020",
                "SSO_SAML_SP_CERT and SSO_SAML_SP_KEY go together: one is set without the other.",
                "Set both (the certificate of the key first), or neither.",
            )
        )
    elif key and not _key_matches(key, certificates[0]):
        problems.append(
            (
                "E020",
                "SSO_SAML_SP_KEY is not the key of the first certificate in SSO_SAML_SP_CERT.",
                "Put the certificate of SSO_SAML_SP_KEY first; the next one (while rotating) after it.",
            )
        )
    return problems


def _key_matches(key_pem: str, certificate_pem: str) -> bool:
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    key = load_pem_private_key(key_pem.encode("ascii"), password=None)
    certificate = x509.load_pem_x509_certificate(certificate_pem.encode("ascii"))
    return key.public_key().public_numbers() == certificate.public_key().public_numbers()  # type: ignore[union-attr]
