"""Label Studio users as SCIM Users: which users SCIM sees, how one reads, how one is written.

SCIM serves the live members of one organization (SSO_ORGANIZATION, or the first, as
everywhere else); anyone else, and a user SCIM deleted, answers 404. A write goes through
one function whatever the method (POST, PUT, PATCH after the library applied it): the
resource as it should be becomes the user's columns, in one transaction.

Mapping: the email is the primary entry of ``emails`` (else the ``work`` one, else the
first; the published schema requires one); ``name.givenName`` / ``name.familyName`` are
the first and last name; ``active`` is ``is_active``. Deactivation ends every session at
once (session_signals); a DELETE deactivates too and keeps every annotation. Re-activation
is allowed here, the administrator's system speaking — a login never re-activates anyone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.utils import timezone
from scim2_models import Meta, Path

from .. import audit
from ..accounts import email_key, find_user_by_email, is_live_member
from ..conf import sso_settings
from ..emails import MAX_EMAIL_LENGTH, InvalidEmail, accepted_email, stored_email
from ..errors import Reason, UserRefused
from ..models import ScimAccount
from ..provisioning import MAX_NAME_LENGTH, Identity, create_user, email_domain_allowed
from ..provisioning import organization_for_new_users as served_organization
from .ids import group_id, is_scim_id
from .resources import POLICY, PersonName, User, UserEmail, UserGroup
from .responses import ScimError

VIA = "scim"
MAX_TEXT_LENGTH = 255
_USER_NAME = Path[User]("userName")


def comparison_key(user_name: str) -> str:
    """The form two userNames share when SCIM calls them equal (the library's rule)."""
    return POLICY.comparison_key(_USER_NAME.resolve(), user_name)


def scim_users() -> QuerySet[Any]:
    """Every user SCIM serves: live members of the served organization, not deleted by SCIM
    (none on an instance with no organization yet: the first user SCIM creates makes it)."""
    try:
        organization = served_organization()
    except UserRefused as refused:
        raise ScimError(503, detail="SSO_ORGANIZATION names no organization.") from refused
    if organization is None:
        return get_user_model()._default_manager.none()
    return (
        get_user_model()
        ._default_manager.filter(om_through__organization=organization, om_through__deleted_at__isnull=True)
        .filter(Q(sso_scim_account__isnull=True) | Q(sso_scim_account__deleted_at__isnull=True))
        .select_related("sso_scim_account")
        .prefetch_related("sso_scim_groups")
        .distinct()
        .order_by("pk")
    )


def user_or_404(resource_id: str) -> Any:
    """The served user with this SCIM id (Label Studio's user id), or a 404."""
    user = scim_users().filter(pk=int(resource_id)).first() if is_scim_id(resource_id) else None
    if user is None:
        raise ScimError(404)
    return user


def account_of(user: Any) -> ScimAccount | None:
    """The user's SCIM row; None for a user SCIM never wrote."""
    try:
        return user.sso_scim_account
    except ScimAccount.DoesNotExist:
        return None


def to_resource(user: Any, base_url: str) -> User:
    """The user as a SCIM User, ``meta.location`` under ``base_url`` (…/scim/v2)."""
    account = account_of(user)
    given, family = user.first_name or None, user.last_name or None
    email = UserEmail(
        value=user.email,
        type=(account.email_type or None) if account else "work",
        primary=account.email_primary if account else True,
    )
    groups = [
        UserGroup(
            value=group_id(group), ref=f"{base_url}/Groups/{group_id(group)}", display=group.display_name
        )
        for group in user.sso_scim_groups.all()
    ]
    return User(
        id=str(user.pk),
        external_id=account.external_id if account else None,
        user_name=account.user_name if account else user.email,
        name=PersonName(given_name=given, family_name=family) if given or family else None,
        emails=[email] if user.email else None,
        active=user.is_active,
        groups=groups or None,
        meta=Meta(
            resource_type="User",
            created=user.date_joined,
            last_modified=account.updated_at if account else user.date_joined,
            location=f"{base_url}/Users/{user.pk}",
        ),
    )


@dataclass(frozen=True)
class WantedUser:
    """What a request asks a user to be, checked for size and shape (not yet for conflicts)."""

    user_name: str
    email: str
    email_type: str
    email_primary: bool | None
    first_name: str
    last_name: str
    active: bool | None
    external_id: str | None


def wanted_from(resource: User) -> WantedUser:
    """The user a SCIM User asks for; 400 for a missing userName or email, or an oversized value."""
    user_name = _text(resource.user_name, MAX_TEXT_LENGTH, "userName", required=True)
    entry = _chosen_email(resource.emails or [])
    sent = entry.value if entry is not None else None
    _text(sent, MAX_EMAIL_LENGTH, "emails", required=True)
    try:  # the text as sent: _text's strip() would remove a no-break space the rule refuses
        email = accepted_email(sent)
    except InvalidEmail:
        raise ScimError(
            400, "invalidValue", "emails.value is not one ASCII address such as alice@example.com."
        ) from None
    name = resource.name or PersonName()
    return WantedUser(
        user_name=user_name,
        email=email,
        email_type=_email_type(entry),
        email_primary=entry.primary if entry is not None else None,
        first_name=_text(name.given_name, MAX_NAME_LENGTH, "name.givenName"),
        last_name=_text(name.family_name, MAX_NAME_LENGTH, "name.familyName"),
        active=resource.active,
        external_id=_text(resource.external_id, MAX_TEXT_LENGTH, "externalId") or None,
    )


def _chosen_email(entries: list[UserEmail]) -> UserEmail | None:
    with_value = [entry for entry in entries if entry.value]
    for pick in (
        lambda entry: entry.primary,
        lambda entry: _email_type(entry) == "work",
        lambda entry: True,
    ):
        for entry in with_value:
            if pick(entry):
                return entry
    return None


def _email_type(entry: UserEmail | None) -> str:
    return _text(str(entry.type), 32, "emails.type") if entry is not None and entry.type else ""


def _text(value: Any, limit: int, attribute: str, *, required: bool = False) -> str:
    text = (value or "").strip() if isinstance(value, str) else ""
    if required and not text:
        raise ScimError(400, "invalidValue", f"{attribute} is required.")
    if len(text) > limit or "\x00" in text:
        raise ScimError(400, "invalidValue", f"{attribute} is longer than {limit} characters or not text.")
    return text


def create(wanted: WantedUser) -> Any:
    """A new user, or one SCIM deleted earlier brought back, as ``wanted`` says."""
    if not sso_settings.SSO_CREATE_USERS:
        raise ScimError(
            403, detail="Creating users is off: set SSO_CREATE_USERS=true to let SCIM create them."
        )
    if not email_domain_allowed(wanted.email):
        raise ScimError(403, detail="The email's domain is not in SSO_ALLOWED_EMAIL_DOMAINS.")
    existing = _user_with_email(wanted.email)
    if existing is not None:
        account = account_of(existing)
        if (
            account is None
            or account.deleted_at is None
            or comparison_key(account.user_name) != comparison_key(wanted.user_name)
            or not is_live_member(existing, served_organization())
        ):
            raise ScimError(409, "uniqueness")  # only the identity SCIM deleted comes back
        write(existing, wanted, revive=True)
        return existing
    _check_user_name_free(wanted.user_name, None)
    user = create_user(Identity(email=wanted.email), served_organization())
    audit.user_created(user_id=user.pk, via=VIA)
    write(user, wanted)
    return user


def _user_with_email(email: str) -> Any:
    """The user the email rule names, None when none; 409 when several share it (none may get it)."""
    try:
        return find_user_by_email(email)
    except UserRefused as refused:
        if refused.reason != Reason.USER_NOT_FOUND:
            raise ScimError(409, "uniqueness") from None
        return None


def _check_user_name_free(user_name: str, user: Any) -> None:
    """409 unless no other user has this userName (in SCIM, or as their email if SCIM never wrote them)."""
    others = ScimAccount.objects.filter(user_name_key=comparison_key(user_name))
    if user is not None:
        others = others.exclude(user_id=user.pk)
    if others.exists():
        raise ScimError(409, "uniqueness")
    holder = _user_with_email(user_name) if "@" in user_name else None
    if holder is not None and (user is None or holder.pk != user.pk) and account_of(holder) is None:
        raise ScimError(409, "uniqueness")


def write(user: Any, wanted: WantedUser, *, revive: bool = False) -> None:
    """Make ``user`` what ``wanted`` says. Call in a transaction."""
    refuse_superuser(user)
    account = account_of(user)
    if account is None or comparison_key(account.user_name) != comparison_key(wanted.user_name):
        _check_user_name_free(wanted.user_name, user)
    changes: dict[str, Any] = {}
    if email_key(wanted.email) != email_key(user.email or ""):
        holder = _user_with_email(wanted.email)
        if holder is not None and holder.pk != user.pk:
            raise ScimError(409, "uniqueness")
        if not email_domain_allowed(wanted.email):
            raise ScimError(403, detail="The email's domain is not in SSO_ALLOWED_EMAIL_DOMAINS.")
        changes["email"] = stored_email(wanted.email)
    if wanted.first_name != user.first_name:
        changes["first_name"] = wanted.first_name
    if wanted.last_name != user.last_name:
        changes["last_name"] = wanted.last_name
    active = True if revive and wanted.active is None else wanted.active
    if active is not None and active != user.is_active:
        if not active:
            refuse_last_superuser(user)
        changes["is_active"] = active
    for field, value in changes.items():
        setattr(user, field, value)
    if changes:
        user.save(update_fields=list(changes))  # is_active=False ends every session (session_signals)
        _audit_changes(user, sorted(changes))
    _save_account(user, account, wanted)


def _audit_changes(user: Any, fields: list[str]) -> None:
    if "is_active" in fields:
        (audit.user_reactivated if user.is_active else audit.user_deactivated)(user_id=user.pk, via=VIA)
    others = [field for field in fields if field != "is_active"]
    if others:
        audit.user_updated(user_id=user.pk, fields=others, via=VIA)


def _save_account(user: Any, account: ScimAccount | None, wanted: WantedUser) -> None:
    values = {
        "user_name": wanted.user_name,
        "user_name_key": comparison_key(wanted.user_name),
        "external_id": wanted.external_id,
        "email_type": wanted.email_type,
        "email_primary": wanted.email_primary,
        "updated_at": timezone.now(),
        "deleted_at": None,
    }
    if account is None:
        user.sso_scim_account = ScimAccount.objects.create(user=user, **values)
        return
    for field, value in values.items():
        setattr(account, field, value)
    account.save()


def refuse_superuser(user: Any) -> None:
    """403 for a superuser unless SSO_SCIM_SUPERUSERS: renaming one's email would hand the
    account to whoever holds that address at the identity provider."""
    if user.is_superuser and not sso_settings.SSO_SCIM_SUPERUSERS:
        raise ScimError(
            403, detail="This user is a superuser; SCIM changes superusers only with SSO_SCIM_SUPERUSERS."
        )


def refuse_last_superuser(user: Any) -> None:
    """400 mutability when ``user`` is the last active superuser: nobody could administer Label Studio."""
    if not user.is_superuser or not user.is_active:
        return
    others = get_user_model()._default_manager.filter(is_superuser=True, is_active=True).exclude(pk=user.pk)
    if not others.exists():
        raise ScimError(400, "mutability", "This is the last active superuser; it cannot be deactivated.")


def delete(user: Any) -> None:
    """SCIM DELETE: deactivate (every session ends), leave every SCIM group, answer 404 from now on."""
    refuse_superuser(user)
    refuse_last_superuser(user)
    if user.is_active:
        user.is_active = False
        user.save(update_fields=["is_active"])
        audit.user_deactivated(user_id=user.pk, via=VIA)
    account = account_of(user)
    now = timezone.now()
    if account is None:
        account = ScimAccount(
            user=user, user_name=user.email, user_name_key=_unused_key(user), updated_at=now
        )
    else:
        account.user_name_key = _unused_key(user)
    account.deleted_at = now
    account.updated_at = now
    account.save()
    user.sso_scim_groups.clear()


def _unused_key(user: Any) -> str:
    """A deleted user frees its userName: the key becomes one no userName compares equal to."""
    return f"DELETED:{user.pk}"  # upper case: the library's comparison form is always lower case
