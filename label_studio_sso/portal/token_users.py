"""Which user a token request is for: found, or created and refreshed as the request says.

The issuer rules of ``accounts`` hold for created users too: a new user joins an
organization the issuer is a live member of, and groups that would change a staff flag
need a superuser issuer (a staff portal must not make its own users staff). Everything
happens in one transaction, so a refused request leaves nothing behind.
"""

from __future__ import annotations

from typing import Any

from .. import audit
from ..accounts import is_live_member, issuer_refusal_reason, user_for_issuer
from ..conf import sso_settings
from ..errors import Reason, UserRefused
from ..provisioning import (
    Identity,
    apply_identity,
    check_required_groups,
    find_or_create_user,
    organization_for_new_users,
    staff_flag,
)
from ..transactions import in_one_transaction
from .token_request import TokenRequest

VIA = "token-api"


def user_for_token_request(issuer: Any, body: TokenRequest) -> Any:
    """The user the token is for, after creating or refreshing them; else UserRefused."""
    identity = Identity(body.email, body.first_name, body.last_name, body.groups)
    check_required_groups(identity)

    def found_or_created() -> tuple[Any, bool]:
        user, created = _found_or_created(issuer, identity, create=body.create)
        was_staff = False if created else user.is_staff
        if staff_flag(identity, was_staff) != was_staff and not issuer.is_superuser:
            raise UserRefused(Reason.STAFF_CHANGE_NOT_ALLOWED)  # the creation is rolled back too
        if not created:
            apply_identity(user, identity, via=VIA)
        return user, created

    user, created = in_one_transaction(found_or_created)
    if created:
        audit.user_created(user_id=user.pk, via=VIA, issuer_id=issuer.pk)
    return user


def _found_or_created(issuer: Any, identity: Identity, *, create: bool) -> tuple[Any, bool]:
    try:
        return user_for_issuer(issuer, identity.email), False
    except UserRefused as refused:
        if refused.reason != Reason.USER_NOT_FOUND or not create:
            raise
    if not sso_settings.SSO_CREATE_USERS:  # the same answer whether or not the email exists elsewhere
        raise UserRefused(Reason.USER_CREATION_OFF)
    organization = organization_for_new_users()
    if organization is None:  # an issuer is a member of one: only a race with its deletion gets here
        raise UserRefused(Reason.NO_ORGANIZATION)
    if not is_live_member(issuer, organization):
        raise UserRefused(Reason.ISSUER_OUTSIDE_ORGANIZATION)
    user, created = find_or_create_user(identity, organization=organization)
    if not created:  # someone has the email: out of this issuer's reach, or a concurrent creation
        reason = issuer_refusal_reason(issuer, user)
        if reason is not None:
            raise UserRefused(reason)
    return user, created
