"""Claims a signer controls (an identity provider, a gateway, a portal) turned into the shared Identity.

A claim is data of unknown shape: each is checked for type and size, and anything else is
ClaimsRefused with a reason (never an exception that would become a 500).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .conf import MAX_GROUP_NAME
from .emails import SURROUNDING_SPACE, InvalidEmail, accepted_email
from .errors import Reason, Refused
from .provisioning import MAX_NAME_LENGTH, Identity

MAX_GROUPS = 1000  # Entra ID sends up to 200 before switching to an overage claim


class ClaimsRefused(Refused):
    """The claims do not make an identity we accept; ``reason`` is a Reason value."""


def identity_of(claims: Mapping[str, Any], *, groups_claim: str | None = "groups") -> Identity:
    """The Identity in ``email``, ``given_name``, ``family_name`` and the groups claim."""
    return Identity(
        email=email_of(claims.get("email")),
        first_name=name_of(claims.get("given_name")),
        last_name=name_of(claims.get("family_name")),
        groups=groups_of(claims.get(groups_claim)) if groups_claim else None,
    )


def email_of(value: Any) -> str:
    """The email address the email rule accepts (``emails``); ClaimsRefused if there is none."""
    if not isinstance(value, str) or not value.strip(SURROUNDING_SPACE):
        raise ClaimsRefused(Reason.MISSING_CLAIM)
    try:
        return accepted_email(value)
    except InvalidEmail:
        raise ClaimsRefused(Reason.INVALID_EMAIL) from None


def name_of(value: Any) -> str | None:
    """A first or last name, cut to MAX_NAME_LENGTH; None when not given."""
    if value is None:
        return None
    if not isinstance(value, str) or not value.isprintable():
        raise ClaimsRefused(Reason.INVALID_CLAIM)
    return value.strip(SURROUNDING_SPACE)[:MAX_NAME_LENGTH]


def groups_of(value: Any) -> tuple[str, ...] | None:
    """A list of group names (a single name is taken as a list of one); None when not given."""
    if value is None:
        return None
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or len(value) > MAX_GROUPS:
        raise ClaimsRefused(Reason.INVALID_CLAIM)
    if any(not isinstance(group, str) or not 0 < len(group) <= MAX_GROUP_NAME for group in value):
        raise ClaimsRefused(Reason.INVALID_CLAIM)
    return tuple(value)
