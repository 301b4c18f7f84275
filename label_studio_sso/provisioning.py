"""Make a Label Studio user match a verified identity: create it, refresh names, apply groups.

Every way in that carries an identity (the token API with ``"create": true`` now; OpenID
Connect, gateways, portal-signed tokens and SCIM later) ends here, so the rules are the
same for all of them:

- a user is created only with SSO_CREATE_USERS on and an email in SSO_ALLOWED_EMAIL_DOMAINS,
  as a member of SSO_ORGANIZATION (or the first organization, as Label Studio's sign-up),
  with it as the active organization and an unusable password;
- a deactivated user, or one removed from their organization, is refused: never
  re-activated, never re-added, never created again;
- SSO_REQUIRED_GROUPS refuses an identity in none of them (or carrying no groups);
- SSO_STAFF_GROUPS sets ``is_staff`` from the identity's groups on each login that
  carries groups;
- names given by the identity replace the stored ones.

Nothing is half-written: callers run this inside one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction

from . import audit
from .accounts import SURROUNDING_SPACE, find_user_by_email, refusal_reason
from .conf import sso_settings
from .errors import Reason, UserRefused

MAX_NAME_LENGTH = 150  # Label Studio stores 256; a shorter bound keeps its UI readable


@dataclass(frozen=True)
class Identity:
    """Who a way in says the person is. ``groups`` is None when the way in carries none."""

    email: str
    first_name: str | None = None
    last_name: str | None = None
    groups: tuple[str, ...] | None = None


def check_required_groups(identity: Identity) -> None:
    """UserRefused(NOT_IN_REQUIRED_GROUP) unless the identity is in one of SSO_REQUIRED_GROUPS."""
    required = sso_settings.SSO_REQUIRED_GROUPS
    if required and not set(identity.groups or ()) & set(required):
        raise UserRefused(Reason.NOT_IN_REQUIRED_GROUP)


def staff_flag(identity: Identity, current: bool) -> bool:
    """``is_staff`` after this login: from SSO_STAFF_GROUPS when both it and groups are given."""
    staff_groups = sso_settings.SSO_STAFF_GROUPS
    if staff_groups is None or identity.groups is None:
        return current
    return bool(set(identity.groups) & set(staff_groups))


def email_domain_allowed(email: str) -> bool:
    """Whether SSO_ALLOWED_EMAIL_DOMAINS admits this address (empty admits every domain)."""
    allowed = sso_settings.SSO_ALLOWED_EMAIL_DOMAINS
    if not allowed:
        return True
    _local, at, domain = email.strip(SURROUNDING_SPACE).rpartition("@")
    return bool(at) and domain.lower() in allowed


def organization_for_new_users() -> Any:
    """SSO_ORGANIZATION, or the first organization; UserRefused(NO_ORGANIZATION) if none."""
    organizations = apps.get_model("organizations", "Organization").objects
    wanted = sso_settings.SSO_ORGANIZATION
    chosen = organizations.filter(pk=wanted) if wanted is not None else organizations.order_by("pk")
    organization = chosen.first()
    if organization is None:
        raise UserRefused(Reason.NO_ORGANIZATION)
    return organization


def find_or_create_user(identity: Identity, *, organization: Any = None) -> tuple[Any, bool]:
    """(user, created): the user with the identity's email, created if allowed and missing.

    ``organization`` is where a created user goes (default: organization_for_new_users()).
    """
    try:
        return find_user_by_email(identity.email), False
    except UserRefused as refused:
        if refused.reason != Reason.USER_NOT_FOUND:
            raise
    if not sso_settings.SSO_CREATE_USERS:
        raise UserRefused(Reason.USER_CREATION_OFF)
    if not email_domain_allowed(identity.email):
        raise UserRefused(Reason.EMAIL_DOMAIN_NOT_ALLOWED)
    organization = organization if organization is not None else organization_for_new_users()
    try:
        with transaction.atomic():  # a savepoint: a concurrent first login may win the insert
            user = create_user(identity, organization)
    except IntegrityError:
        return find_user_by_email(identity.email), False  # created by that other login
    return user, True


def create_user(identity: Identity, organization: Any) -> Any:
    """A new active member of ``organization``, with an unusable password; no checks (callers make them)."""
    email = new_user_email(identity.email)
    user = get_user_model()._default_manager.create_user(
        email=email,
        password=None,  # unusable: this user signs in through SSO only
        username=email.rpartition("@")[0],  # as Label Studio's own sign-up names users
        first_name=identity.first_name or "",
        last_name=identity.last_name or "",
        is_staff=staff_flag(identity, False),
    )
    organization.add_user(user)
    user.active_organization = organization
    user.save(update_fields=["active_organization"])
    return user


def new_user_email(email: str) -> str:
    """The stored form of a created user's email: ASCII letters in lower case.

    The email rule (``accounts``) matches ASCII letters in any case, and the user table's
    unique email is exact; storing one case makes that constraint stop two concurrent first
    logins spelled ``Alice@`` and ``alice@`` from creating two users.
    """
    return email.strip(SURROUNDING_SPACE).translate(_ASCII_LOWER)


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def apply_identity(user: Any, identity: Identity, *, via: str) -> list[str]:
    """Refresh names and the staff flag from the identity; returns the fields changed."""
    changes = {}
    if identity.first_name is not None and identity.first_name != user.first_name:
        changes["first_name"] = identity.first_name
    if identity.last_name is not None and identity.last_name != user.last_name:
        changes["last_name"] = identity.last_name
    staff = staff_flag(identity, user.is_staff)
    if staff != user.is_staff:
        changes["is_staff"] = staff
    for field, value in changes.items():
        setattr(user, field, value)
    if changes:
        user.save(update_fields=list(changes))
        audit.user_updated(user_id=user.pk, fields=sorted(changes), via=via)
    return sorted(changes)


def provision(identity: Identity, *, via: str) -> tuple[Any, bool]:
    """(user, created) for a verified identity: the whole rule set above, in one call.

    Required groups, then find or create, then — for a user who already existed — refuse a
    deactivated or removed one (never re-activated) and refresh names and staff flag. Call
    inside a transaction; ``via`` names the way in for the audit log.
    """
    check_required_groups(identity)
    user, created = find_or_create_user(identity)
    if created:
        audit.user_created(user_id=user.pk, via=via)
        return user, True
    reason = refusal_reason(user)
    if reason is not None:
        raise UserRefused(reason)
    apply_identity(user, identity, via=via)
    return user, False
