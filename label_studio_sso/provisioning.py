"""Make a Label Studio user match a verified identity: create it, refresh names, apply groups.

Every way in that carries an identity (the token API with ``"create": true`` now; OpenID
Connect, gateways, portal-signed tokens and SCIM later) ends here, so the rules are the
same for all of them:

- a user is created only with SSO_CREATE_USERS on and an email the email rule accepts
  (``emails``) in SSO_ALLOWED_EMAIL_DOMAINS, as a member of SSO_ORGANIZATION (or the first
  organization, as Label Studio's sign-up), with it as the active organization and an
  unusable password; on an instance with no organization yet (and SSO_ORGANIZATION unset)
  the first user created makes it and owns it, as Label Studio's sign-up does;
- the email is stored in the rule's stored form, and read back: if the database kept
  anything else, nothing is created;
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
from django.db import IntegrityError, connections, router, transaction

from . import audit
from .accounts import find_user_by_email, refusal_reason
from .conf import sso_settings
from .emails import InvalidEmail, domain_of, stored_email
from .errors import Reason, UserRefused

MAX_NAME_LENGTH = 150  # Label Studio stores 256; a shorter bound keeps its UI readable
FIRST_ORGANIZATION_TITLE = "Label Studio"  # what Label Studio's sign-up names the first one
_FIRST_ORGANIZATION_LOCK = 0x4C53_5353_4F00  # a PostgreSQL advisory lock key of our own ("LSSSO")


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
    try:
        return domain_of(email) in allowed  # the domain of the form that is stored
    except InvalidEmail:
        return False


def organization_for_new_users() -> Any:
    """SSO_ORGANIZATION, or the first organization; None when there is none yet (the first
    user created makes it); UserRefused(NO_ORGANIZATION) when SSO_ORGANIZATION names none."""
    organizations = apps.get_model("organizations", "Organization").objects
    wanted = sso_settings.SSO_ORGANIZATION
    if wanted is None:
        return organizations.order_by("pk").first()
    organization = organizations.filter(pk=wanted).first()
    if organization is None:
        raise UserRefused(Reason.NO_ORGANIZATION)
    return organization


def find_or_create_user(identity: Identity, *, organization: Any = None) -> tuple[Any, bool]:
    """(user, created): the user with the identity's email, created if allowed and missing.

    ``organization`` is where a created user goes (default: organization_for_new_users(),
    and on an empty instance the organization the user makes).
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
    """A new active member of ``organization`` (None: of the instance's first organization, which
    this user makes when there is none), with an unusable password. Callers check creation
    rules; the email rule is applied here again, and what the database stored is read back."""
    try:
        email = stored_email(identity.email)
    except InvalidEmail:
        raise UserRefused(Reason.INVALID_EMAIL) from None
    user = get_user_model()._default_manager.create_user(
        email=email,
        password=None,  # unusable: this user signs in through SSO only
        username=email.rpartition("@")[0],  # as Label Studio's own sign-up names users
        first_name=identity.first_name or "",
        last_name=identity.last_name or "",
        is_staff=staff_flag(identity, False),
    )
    user.refresh_from_db(fields=["email"])
    if user.email != email:  # Django, Label Studio or the database changed it: fail closed
        raise UserRefused(Reason.INVALID_EMAIL)
    if organization is None:
        organization = _first_organization_or_none()
    if organization is None:
        organization = apps.get_model("organizations", "Organization").create_organization(
            created_by=user, title=FIRST_ORGANIZATION_TITLE
        )  # Label Studio's own function, as its sign-up calls it; it makes the user a member
    else:
        organization.add_user(user)
    user.active_organization = organization
    user.save(update_fields=["active_organization"])
    return user


def _first_organization_or_none() -> Any:
    """The first organization, read while no other first user can make one (PostgreSQL's lock,
    held to the end of the transaction; SQLite lets one writer in at a time anyway)."""
    organizations = apps.get_model("organizations", "Organization").objects
    connection = connections[router.db_for_write(organizations.model)]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_FIRST_ORGANIZATION_LOCK])
    return organizations.order_by("pk").first()


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


def provision(identity: Identity, *, via: str, superusers: bool = True) -> tuple[Any, bool]:
    """(user, created) for a verified identity: the whole rule set above, in one call.

    Required groups, then find or create, then — for a user who already existed — refuse a
    deactivated or removed one (never re-activated), a superuser unless ``superusers`` (a way
    in that asks no person: portal-signed tokens), and refresh names and staff flag. Call
    inside a transaction; ``via`` names the way in for the audit log.
    """
    check_required_groups(identity)
    user, created = find_or_create_user(identity)
    if created:
        audit.user_created(user_id=user.pk, via=via)
        return user, True
    reason = refusal_reason(user)
    if reason is None and user.is_superuser and not superusers:
        reason = Reason.USER_OUTRANKS_ISSUER
    if reason is not None:
        raise UserRefused(reason)
    apply_identity(user, identity, via=via)
    return user, False
