"""Find and refuse Label Studio users: by email, by id, for an issuer; organization membership.

Label Studio "deletes" a member by stamping ``deleted_at`` on their organization
membership; the user row stays, still ``is_active``. Such users show as "Deleted" in
its UI and must not get in through SSO, so a user needs ``is_active`` and at least one
live membership.

Emails are matched by one rule on every database: surrounding white space is ignored and
the ASCII letters A-Z match their lower case; every other character must be the same
code point. PostgreSQL's ``UPPER()`` folds non-ASCII letters by the database's locale
(a dotless i, U+0131, becomes ``I``), so the database only narrows the candidates under the
"C" collation and Python decides.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import connections, router
from django.db.models.functions import Collate, Upper

from .emails import SURROUNDING_SPACE
from .errors import Reason, UserRefused

MAX_CANDIDATES = 10
_ASCII_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def email_key(email: str) -> str:
    """The form two emails share when they name the same account: ASCII case folded only."""
    return email.strip(SURROUNDING_SPACE).translate(_ASCII_UPPER)


def same_email(first: str | None, second: str | None) -> bool:
    """True when both emails name the same account under the matching rule."""
    return first is not None and second is not None and email_key(first) == email_key(second)


def find_user_by_email(email: str) -> Any:
    """The one user with this email (exact case wins among case variants), or UserRefused."""
    key = email_key(email)
    model = get_user_model()
    email_field = model.get_email_field_name()
    folded: Any = Upper(email_field)
    if connections[router.db_for_read(model)].vendor == "postgresql":
        folded = Upper(Collate(email_field, "C"))  # ASCII-only folding, whatever the locale
    candidates = model._default_manager.annotate(_sso_email_key=folded).filter(_sso_email_key=key)
    matches = [user for user in candidates[:MAX_CANDIDATES] if email_key(user.email or "") == key]
    exact = [user for user in matches if user.email == email.strip(SURROUNDING_SPACE)]
    if len(exact) == 1:
        matches = exact
    if not matches:
        raise UserRefused(Reason.USER_NOT_FOUND)
    if len(matches) > 1:
        raise UserRefused(Reason.USER_AMBIGUOUS)
    return matches[0]


def refusal_reason(user: Any) -> str | None:
    """None if the user may log in, else Reason.USER_INACTIVE or Reason.USER_DELETED."""
    if not user.is_active:
        return Reason.USER_INACTIVE
    if not _has_organizations():  # plain Django without Label Studio
        return None
    if not _live_memberships(user).exists():
        return Reason.USER_DELETED
    return None


def issuer_refusal_reason(issuer: Any, user: Any, *, to_log_in: bool = True) -> str | None:
    """None if ``issuer`` may mint a login token for ``user`` (or, with ``to_log_in`` false,
    end the user's sessions), else why not.

    An issuer reaches only users of an organization it is itself a live member of; users
    who were never in one of its organizations are not revealed to it
    (Reason.USER_NOT_FOUND). It mints only for live, active members; it may end the
    sessions of removed or deactivated ones too (ending sessions never grants anything).
    Only a superuser reaches a superuser (Reason.USER_OUTRANKS_ISSUER): a token carries all
    of its user's power, and ending an administrator's sessions is not a staff member's call.
    """
    if _has_organizations():
        issuer_organizations = _live_memberships(issuer).values("organization")
        shared = list(
            _memberships(user)
            .filter(organization__in=issuer_organizations)
            .values_list("deleted_at", flat=True)
        )  # one query: the user's memberships in the issuer's organizations, live or removed
        if not shared:
            return Reason.USER_NOT_FOUND
        reason = Reason.USER_INACTIVE if to_log_in and not user.is_active else None
        if reason is None and to_log_in and all(deleted_at is not None for deleted_at in shared):
            reason = Reason.USER_DELETED  # removed from the issuer's organizations
    else:
        reason = refusal_reason(user) if to_log_in else None
    if reason is not None:
        return reason
    if user.is_superuser and not issuer.is_superuser:
        return Reason.USER_OUTRANKS_ISSUER
    return None


def is_live_member(user: Any, organization: Any) -> bool:
    """Whether ``user`` is a member of ``organization`` who was not removed from it."""
    return _live_memberships(user).filter(organization=organization).exists()


def _has_organizations() -> bool:
    return apps.is_installed("organizations")


def _memberships(user: Any) -> Any:
    return apps.get_model("organizations", "OrganizationMember").objects.filter(user=user)


def _live_memberships(user: Any) -> Any:
    return _memberships(user).filter(deleted_at__isnull=True)


def user_named(user_id: int, email: str) -> Any:
    """The user with this id whose email still matches, if they may log in; else UserRefused.

    Matching the email too means a login cannot reach a different user who was later
    given the same id (SQLite reuses the highest id after a deletion).
    """
    user = get_user_model()._default_manager.filter(pk=user_id).first()
    if user is None or not same_email(user.email, email):
        raise UserRefused(Reason.USER_NOT_FOUND)
    reason = refusal_reason(user)
    if reason is not None:
        raise UserRefused(reason)
    return user


def user_for_issuer(issuer: Any, email: str, *, to_log_in: bool = True) -> Any:
    """The user with this email that ``issuer`` may mint a login token for (or log out,
    with ``to_log_in`` false), else UserRefused."""
    user = find_user_by_email(email)
    reason = issuer_refusal_reason(issuer, user, to_log_in=to_log_in)
    if reason is not None:
        raise UserRefused(reason)
    return user


def ensure_active_organization(user: Any) -> None:
    """Give a user without one the first organization they are still a member of.

    Label Studio's login form does the same; its own member removal picks the first
    membership that is not soft-deleted, and so does this.
    """
    if getattr(user, "active_organization_id", 0) is not None:
        return
    organization = user.organizations.filter(organizationmember__deleted_at__isnull=True).first()
    if organization is not None:
        user.active_organization = organization
        user.save(update_fields=["active_organization"])
