"""Who the gateway says the person is: a signed assertion, or plain headers.

With SSO_PROXY_JWT_HEADER set the assertion is the only source: it is verified (keys from
SSO_PROXY_JWKS_URL, ``aud`` and ``iss`` as configured, ``exp``, pinned algorithms) and the
plain headers are ignored. Otherwise the email, name and groups headers are read as they
arrive (groups separated by commas or, as Authentik sends them, pipes). Header values reach
WSGI as Latin-1; the gateway sent UTF-8, so they are decoded back, and anything that is not
clean text refuses the request.
"""

from __future__ import annotations

import re
from typing import Any

from django.http import HttpRequest

from ..claims import ClaimsRefused, email_of, groups_of, identity_of, name_of
from ..conf import sso_settings
from ..errors import Reason
from ..jwks import keys_at
from ..provisioning import Identity
from ..signed_tokens import verify_signed

MAX_HEADER_LENGTH = 4096
_GROUP_SEPARATORS = re.compile(r"[,|]")  # oauth2-proxy and Authelia use commas, Authentik pipes
ASSERTION_REQUIRED_CLAIMS = ("exp", "iat", "email")


def uses_assertion() -> bool:
    """Whether the gateway signs an assertion (then plain headers are never read)."""
    return bool(sso_settings.SSO_PROXY_JWT_HEADER)


def is_enabled() -> bool:
    """Whether any gateway way in is configured."""
    return uses_assertion() or bool(sso_settings.SSO_PROXY_EMAIL_HEADER)


def identity_headers() -> tuple[str, ...]:
    """Every header a gateway could speak through, to log them when an untrusted peer sends one."""
    names = (
        sso_settings.SSO_PROXY_JWT_HEADER,
        sso_settings.SSO_PROXY_EMAIL_HEADER,
        sso_settings.SSO_PROXY_NAME_HEADER,
        sso_settings.SSO_PROXY_GROUPS_HEADER,
    )
    return tuple(name for name in names if name)


def asserted_identity(request: HttpRequest) -> Identity | None:
    """The identity the trusted gateway asserts, None when it asserts none; ClaimsRefused or
    TokenRejected when what it sent is not an identity we accept."""
    if uses_assertion():
        raw = request.headers.get(sso_settings.SSO_PROXY_JWT_HEADER)
        return None if raw is None else _identity_of_assertion(raw)
    email = _header(request, sso_settings.SSO_PROXY_EMAIL_HEADER)
    if email is None:
        return None
    first_name, last_name = _split_name(_header(request, sso_settings.SSO_PROXY_NAME_HEADER))
    groups = _header(request, sso_settings.SSO_PROXY_GROUPS_HEADER)
    return Identity(
        email=email_of(email),
        first_name=first_name,
        last_name=last_name,
        groups=groups_of([group.strip() for group in _GROUP_SEPARATORS.split(groups) if group.strip()])
        if groups is not None
        else None,
    )


def _identity_of_assertion(raw: str) -> Identity:
    claims = verify_signed(
        raw.strip(),
        keys_at(str(sso_settings.SSO_PROXY_JWKS_URL), min_refresh=sso_settings.SSO_JWKS_MIN_REFRESH),
        algorithms=sso_settings.SSO_PROXY_JWT_ALGORITHMS,
        audience=sso_settings.SSO_PROXY_JWT_AUDIENCE,
        issuer=sso_settings.SSO_PROXY_JWT_ISSUER,
        require=ASSERTION_REQUIRED_CLAIMS,
        leeway=sso_settings.SSO_CLOCK_SKEW,
    )
    identity = identity_of(claims)
    if identity.first_name is None and identity.last_name is None and "name" in claims:
        first_name, last_name = _split_name(claims["name"])  # name_of checks its type
        return Identity(identity.email, first_name, last_name, identity.groups)
    return identity


def _header(request: HttpRequest, name: str) -> str | None:
    """A header's value as the gateway wrote it (UTF-8), None when absent or unnamed."""
    if not name:
        return None
    value = request.headers.get(name)
    if value is None:
        return None
    if len(value) > MAX_HEADER_LENGTH:
        raise ClaimsRefused(Reason.INVALID_CLAIM)
    try:
        return value.encode("latin-1").decode("utf-8")
    except UnicodeError:
        raise ClaimsRefused(Reason.INVALID_CLAIM) from None


def _split_name(full_name: Any) -> tuple[str | None, str | None]:
    """A display name such as "Mary Ann Smith" as Label Studio's first ("Mary Ann") and last name."""
    name = name_of(full_name)
    if name is None:
        return None, None
    first, _space, last = name.rpartition(" ")
    return (first, last) if first else (last, "")
