"""Which Label Studio users may receive and redeem login tokens.

Label Studio "deletes" a member by stamping ``deleted_at`` on their organization
membership; the user row stays, still ``is_active``. Such users show as "Deleted" in
its UI and must not get in through SSO, so a user needs ``is_active`` and at least one
live membership.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps

from .exceptions import Reason


def refusal_reason(user: Any) -> str | None:
    """None if the user may log in, else Reason.USER_INACTIVE or Reason.USER_DELETED."""
    if not user.is_active:
        return Reason.USER_INACTIVE
    if not apps.is_installed("organizations"):  # plain Django without Label Studio
        return None
    membership = apps.get_model("organizations", "OrganizationMember")
    if not membership.objects.filter(user=user, deleted_at__isnull=True).exists():
        return Reason.USER_DELETED
    return None
