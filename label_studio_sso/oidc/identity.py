"""Who the provider says signed in: verified claims turned into the shared Identity.

Each claim is checked for type and size by ``claims`` (shared with the other ways in).
The email must be verified by the provider (``email_verified`` true, as a
JSON boolean or, as some providers send it, the string ``"true"``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..claims import ClaimsRefused, email_of, identity_of
from ..conf import sso_settings
from ..errors import Reason
from ..provisioning import Identity

__all__ = ["ClaimsRefused", "identity_from_claims", "needs_userinfo"]

IDENTITY_CLAIMS = ("email", "email_verified", "given_name", "family_name")


def needs_userinfo(claims: Mapping[str, Any]) -> bool:
    """Whether the ID token lacks claims the userinfo endpoint may hold (a conforming provider
    puts only ``sub`` in an ID token from the token endpoint)."""
    wanted = (*IDENTITY_CLAIMS, sso_settings.SSO_OIDC_GROUPS_CLAIM)
    return any(name not in claims for name in wanted)


def identity_from_claims(claims: Mapping[str, Any]) -> Identity:
    """The Identity the claims describe; ClaimsRefused if they do not describe one."""
    email_of(claims.get("email"))  # a missing or malformed email is reported before verification
    if claims.get("email_verified") not in (True, "true"):
        raise ClaimsRefused(Reason.EMAIL_NOT_VERIFIED)
    return identity_of(claims, groups_claim=sso_settings.SSO_OIDC_GROUPS_CLAIM)
