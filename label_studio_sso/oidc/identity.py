"""Who the provider says signed in: verified claims turned into the shared Identity.

A claim the provider controls is data of unknown shape: each is checked for type and
size, and anything else refuses the login with a reason (never an exception that would
become a 500). The email must be verified by the provider (``email_verified`` true, as a
JSON boolean or, as some providers send it, the string ``"true"``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..accounts import SURROUNDING_SPACE
from ..conf import MAX_GROUP_NAME, sso_settings
from ..errors import Reason, Refused
from ..provisioning import MAX_NAME_LENGTH, Identity

MAX_GROUPS = 1000  # Entra ID sends up to 200 before switching to an overage claim
MAX_EMAIL_LENGTH = 254
IDENTITY_CLAIMS = ("email", "email_verified", "given_name", "family_name")


class ClaimsRefused(Refused):
    """The claims do not make an identity we accept; ``reason`` is a Reason value."""


def needs_userinfo(claims: Mapping[str, Any]) -> bool:
    """Whether the ID token lacks claims the userinfo endpoint may hold (a conforming provider
    puts only ``sub`` in an ID token from the token endpoint)."""
    wanted = (*IDENTITY_CLAIMS, sso_settings.SSO_OIDC_GROUPS_CLAIM)
    return any(name not in claims for name in wanted)


def identity_from_claims(claims: Mapping[str, Any]) -> Identity:
    """The Identity the claims describe; ClaimsRefused if they do not describe one."""
    email = claims.get("email")
    if not isinstance(email, str) or not email.strip(SURROUNDING_SPACE) or len(email) > MAX_EMAIL_LENGTH:
        raise ClaimsRefused(Reason.MISSING_CLAIM)
    if not email.isprintable() or "@" not in email:
        raise ClaimsRefused(Reason.INVALID_CLAIM)
    if claims.get("email_verified") not in (True, "true"):
        raise ClaimsRefused(Reason.EMAIL_NOT_VERIFIED)
    return Identity(
        email=email.strip(SURROUNDING_SPACE),
        first_name=_name(claims.get("given_name")),
        last_name=_name(claims.get("family_name")),
        groups=_groups(claims.get(sso_settings.SSO_OIDC_GROUPS_CLAIM)),
    )


def _name(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.isprintable():
        raise ClaimsRefused(Reason.INVALID_CLAIM)
    return value.strip(SURROUNDING_SPACE)[:MAX_NAME_LENGTH]


def _groups(value: Any) -> tuple[str, ...] | None:
    """The groups claim: a list of names (a single name is taken as a list of one)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or len(value) > MAX_GROUPS:
        raise ClaimsRefused(Reason.INVALID_CLAIM)
    if any(not isinstance(group, str) or not 0 < len(group) <= MAX_GROUP_NAME for group in value):
        raise ClaimsRefused(Reason.INVALID_CLAIM)
    return tuple(value)
