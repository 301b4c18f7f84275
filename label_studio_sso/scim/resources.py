"""What this SCIM service publishes: the attributes it keeps, as scim2-models resources.

The published schemas name only what Label Studio stores, so a provider (and a conformance
checker) reading ``/Schemas`` never sends a value that would silently vanish:

- User: ``userName``, ``name.givenName`` / ``name.familyName`` (first and last name), one
  email (``emails``, required: ``value``, ``type``, ``primary``), ``active``, ``externalId``;
  ``groups`` is read-only.
- Group: ``displayName``, ``members`` (users, by ``value`` and ``$ref``), ``externalId``.

The policy reads payloads the way Okta and Microsoft Entra ID send them: attributes no
schema declares are dropped (Entra sends titles, addresses, the enterprise extension), a
PATCH ``remove`` may select by value, and a PATCH path filter that matches no email creates
it (Entra's ``emails[type eq "work"].value``).
"""

# No ``from __future__ import annotations`` here: pydantic must see these types when each class
# is made, or scim2-models builds its attribute table late and filters find no attribute.
from typing import Annotated, Any

from pydantic import Field
from scim2_models import (
    URN,
    AuthenticationScheme,
    Bulk,
    CaseExact,
    ChangePassword,
    ComplexAttribute,
    ETag,
    Filter,
    Mutability,
    Patch,
    Reference,
    Required,
    Resource,
    ScimPolicy,
    ScimProvider,
    ServiceProviderConfig,
    Sort,
    Uniqueness,
)
from scim2_models import Email as _Email

MAX_RESULTS = 200  # a page, at most; ServiceProviderConfig announces it
DEFAULT_COUNT = 100
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"


class PersonName(ComplexAttribute):
    """Label Studio's first and last name (it keeps no other part of a name)."""

    family_name: str | None = None
    given_name: str | None = None


class UserEmail(ComplexAttribute):
    """The user's one email address (Label Studio keeps one).

    ``value`` is plain text here, not the library's EmailStr: that one normalizes (a fullwidth
    letter becomes ASCII, NFD becomes NFC), and a look-alike would then name another account.
    The shared email rule judges the text as it was sent (``users.wanted_from``).
    """

    value: Annotated[str | None, Required.true] = None
    type: _Email.Type | None = None
    primary: bool | None = None


class UserGroup(ComplexAttribute):
    """A group the user is in (read-only: membership is changed on the group)."""

    value: Annotated[str | None, Mutability.read_only, CaseExact.true] = None
    ref: Annotated[Reference["Group"] | None, Mutability.read_only] = Field(
        None, serialization_alias="$ref", validation_alias="$ref"
    )
    display: Annotated[str | None, Mutability.read_only] = None


class User(Resource[Any]):
    """A Label Studio user, as SCIM sees it."""

    __schema__ = URN(USER_SCHEMA)

    user_name: Annotated[str | None, Required.true, Uniqueness.server] = None
    name: PersonName | None = None
    emails: Annotated[list[UserEmail] | None, Required.true] = None  # Label Studio signs people in by email
    active: bool | None = None
    groups: Annotated[list[UserGroup] | None, Mutability.read_only] = None


class GroupMember(ComplexAttribute):
    """A member of a group: a user, by its SCIM id."""

    value: Annotated[str | None, Mutability.immutable, CaseExact.true] = None
    ref: Annotated[Reference["User"] | None, Mutability.immutable] = Field(
        None, serialization_alias="$ref", validation_alias="$ref"
    )


class Group(Resource[Any]):
    """A group pushed by the provider; SSO_STAFF_GROUPS names those that make staff."""

    __schema__ = URN(GROUP_SCHEMA)

    display_name: Annotated[str | None, Required.true, Uniqueness.server] = None
    members: list[GroupMember] | None = None


SERVICE_CONFIG = ServiceProviderConfig(
    documentation_uri=None,
    patch=Patch(supported=True),
    bulk=Bulk(supported=False, max_operations=0, max_payload_size=0),
    filter=Filter(supported=True, max_results=MAX_RESULTS),
    change_password=ChangePassword(supported=False),
    sort=Sort(supported=False),
    etag=ETag(supported=False),
    authentication_schemes=[
        AuthenticationScheme(
            type="oauthbearertoken",
            name="Bearer token",
            description="The token set in SSO_SCIM_TOKEN, as Authorization: Bearer <token>",
            primary=True,
        )
    ],
)

POLICY = ScimPolicy(
    unknown=ScimPolicy.Unknown.ignore,
    remove_value_as_filter=ScimPolicy.RemoveValue.apply,
    unmatched_path_filter=ScimPolicy.UnmatchedPathFilter.create,
)

PROVIDER = ScimProvider(models=[User, Group], config=SERVICE_CONFIG, policy=POLICY)


def attribute_names() -> frozenset[str]:
    """Every attribute and message member name this service declares, as SCIM and Python spell them."""
    from scim2_models import PatchOp, PatchOperation

    names = {"Operations", "op", "path", "value"}
    for model in (User, Group, PersonName, UserEmail, UserGroup, GroupMember, PatchOp, PatchOperation):
        for field_name, field in model.model_fields.items():
            names.update({field_name, field.serialization_alias or field_name, model._scim_name(field_name)})
    return frozenset(names)
