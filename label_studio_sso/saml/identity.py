"""Who the verified assertion names: its attributes (or NameID) turned into the shared Identity.

The email is the first of SSO_SAML_EMAIL_ATTRIBUTE present, else the NameID when its format
is emailAddress; either way under the one email rule (``claims.email_of``). An attribute
holding several emails is refused: a provider that means one person sends one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from onelogin.saml2.constants import OneLogin_Saml2_Constants

from ..claims import ClaimsRefused, email_of, groups_of, name_of
from ..conf import sso_settings
from ..errors import Reason
from ..provisioning import Identity

__all__ = ["ClaimsRefused", "identity_from_assertion"]


def identity_from_assertion(
    attributes: Mapping[str, Sequence[Any]], name_id: str | None, name_id_format: str | None
) -> Identity:
    """The Identity the assertion describes; ClaimsRefused if it describes none."""
    email = _single(attributes, sso_settings.SSO_SAML_EMAIL_ATTRIBUTE)
    if email is None and name_id_format == OneLogin_Saml2_Constants.NAMEID_EMAIL_ADDRESS:
        email = name_id
    groups = _first_present(attributes, sso_settings.SSO_SAML_GROUPS_ATTRIBUTE)
    return Identity(
        email=email_of(email),
        first_name=name_of(_single(attributes, sso_settings.SSO_SAML_FIRST_NAME_ATTRIBUTE)),
        last_name=name_of(_single(attributes, sso_settings.SSO_SAML_LAST_NAME_ATTRIBUTE)),
        groups=groups_of(list(groups)) if groups is not None else None,
    )


def _first_present(attributes: Mapping[str, Sequence[Any]], names: Sequence[str]) -> Sequence[Any] | None:
    for name in names:
        if name in attributes:
            return attributes[name]
    return None


def _single(attributes: Mapping[str, Sequence[Any]], names: Sequence[str]) -> Any:
    values = _first_present(attributes, names)
    if values is None or len(values) == 0:
        return None
    if len(values) > 1:
        raise ClaimsRefused(Reason.INVALID_CLAIM)
    return values[0]
