"""SCIM Groups: any group a provider pushes is kept; those named in SSO_STAFF_GROUPS make staff.

A group's members are users SCIM serves (same organization, not deleted). Whenever a
membership changes, each user concerned gets ``is_staff`` from SSO_STAFF_GROUPS at once —
the same rule a login with groups applies (section 9); with SSO_STAFF_GROUPS unset, staff
flags are left alone. SSO_REQUIRED_GROUPS is a login rule and is not applied here: a
provider cuts someone off with ``active: false`` (Okta and Entra ID send it on unassignment).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from scim2_models import Meta

from .. import audit
from ..conf import sso_settings
from ..models import ScimGroup
from .ids import group_id, group_key, is_scim_id
from .resources import Group, GroupMember
from .responses import ScimError
from .users import VIA, comparison_key, scim_users

MAX_DISPLAY_NAME = 255
MAX_MEMBERS = 10_000  # one group's members, at most, in one write


def scim_groups() -> QuerySet[Any]:
    """Every group, with its members that SCIM still serves."""
    return ScimGroup.objects.prefetch_related(
        Prefetch("members", queryset=scim_users().prefetch_related(None), to_attr="served_members")
    ).order_by("pk")


def group_or_404(resource_id: str) -> ScimGroup:
    """The group with this SCIM id, or a 404."""
    key = group_key(resource_id)
    group = scim_groups().filter(pk=key).first() if key is not None else None
    if group is None:
        raise ScimError(404)
    return group


def to_resource(group: ScimGroup, base_url: str) -> Group:
    """The group as a SCIM Group, ``meta.location`` under ``base_url``."""
    members = [
        GroupMember(value=str(user.pk), ref=f"{base_url}/Users/{user.pk}") for user in _served_members(group)
    ]
    return Group(
        id=group_id(group),
        external_id=group.external_id,
        display_name=group.display_name,
        members=members or None,
        meta=Meta(
            resource_type="Group",
            created=group.created_at,
            last_modified=group.updated_at,
            location=f"{base_url}/Groups/{group_id(group)}",
        ),
    )


def _served_members(group: ScimGroup) -> list[Any]:
    if hasattr(group, "served_members"):  # prefetched by scim_groups()
        return group.served_members
    return list(scim_users().prefetch_related(None).filter(sso_scim_groups=group))


@dataclass(frozen=True)
class WantedGroup:
    """What a request asks a group to be."""

    display_name: str
    external_id: str | None
    member_ids: frozenset[int]


def wanted_from(resource: Group) -> WantedGroup:
    """The group a SCIM Group asks for; 400 for a missing name or a member that is not a served user."""
    display_name = (resource.display_name or "").strip()
    if not display_name or len(display_name) > MAX_DISPLAY_NAME or "\x00" in display_name:
        raise ScimError(
            400, "invalidValue", f"displayName is required, at most {MAX_DISPLAY_NAME} characters."
        )
    external_id = (resource.external_id or "").strip() or None
    if external_id is not None and (len(external_id) > 255 or "\x00" in external_id):
        raise ScimError(400, "invalidValue", "externalId is longer than 255 characters or not text.")
    values = [member.value or "" for member in resource.members or []]
    if len(values) > MAX_MEMBERS:
        raise ScimError(400, "invalidValue", f"A group has at most {MAX_MEMBERS} members in one request.")
    if not all(is_scim_id(value) for value in values):
        raise ScimError(400, "invalidValue", "Each member must be a user's SCIM id.")
    member_ids = frozenset(int(value) for value in values)
    if len(set(scim_users().filter(pk__in=member_ids).values_list("pk", flat=True))) != len(member_ids):
        raise ScimError(400, "invalidValue", "Each member must be a user this SCIM service serves.")
    return WantedGroup(display_name=display_name, external_id=external_id, member_ids=member_ids)


def _check_name_free(display_name: str, group: ScimGroup | None) -> None:
    others = ScimGroup.objects.filter(display_name_key=comparison_key(display_name))
    if group is not None:
        others = others.exclude(pk=group.pk)
    if others.exists():
        raise ScimError(409, "uniqueness")


def create(wanted: WantedGroup) -> ScimGroup:
    """A new group as ``wanted`` says. Call in a transaction."""
    _check_name_free(wanted.display_name, None)
    now = timezone.now()
    group = ScimGroup.objects.create(
        display_name=wanted.display_name,
        display_name_key=comparison_key(wanted.display_name),
        external_id=wanted.external_id,
        created_at=now,
        updated_at=now,
    )
    group.members.set(wanted.member_ids)
    apply_staff_groups(wanted.member_ids)
    audit.scim_group_changed(group_id=group.pk, change="created", members=len(wanted.member_ids))
    return group


def write(group: ScimGroup, wanted: WantedGroup) -> None:
    """Make ``group`` what ``wanted`` says. Call in a transaction."""
    _check_name_free(wanted.display_name, group)
    before = set(group.members.values_list("pk", flat=True))
    group.display_name = wanted.display_name
    group.display_name_key = comparison_key(wanted.display_name)
    group.external_id = wanted.external_id
    group.updated_at = timezone.now()
    group.save()
    served_before = set(scim_users().filter(pk__in=before).values_list("pk", flat=True))
    kept_unserved = before - served_before  # members SCIM no longer serves stay as they were
    group.members.set(wanted.member_ids | kept_unserved)
    apply_staff_groups(served_before | wanted.member_ids)
    audit.scim_group_changed(group_id=group.pk, change="changed", members=len(wanted.member_ids))


def delete(group: ScimGroup) -> None:
    """Remove the group; its former members' staff flags follow. Call in a transaction."""
    members = set(group.members.values_list("pk", flat=True))
    group_id = group.pk
    group.delete()
    apply_staff_groups(members)
    audit.scim_group_changed(group_id=group_id, change="deleted", members=0)


def apply_staff_groups(user_ids: Iterable[int]) -> None:
    """Set ``is_staff`` of these users from their groups, when SSO_STAFF_GROUPS is set."""
    staff_groups = sso_settings.SSO_STAFF_GROUPS
    if staff_groups is None:
        return
    for user in scim_users().filter(pk__in=set(user_ids)):  # their groups come prefetched
        if user.is_superuser and not sso_settings.SSO_SCIM_SUPERUSERS:
            continue  # a superuser's flags are not SCIM's to change
        staff = any(group.display_name in staff_groups for group in user.sso_scim_groups.all())
        if staff != user.is_staff:
            user.is_staff = staff
            user.save(update_fields=["is_staff"])
            audit.user_updated(user_id=user.pk, fields=["is_staff"], via=VIA)
