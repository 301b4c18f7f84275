"""Who may log in: active users who are still members of an organization."""

from __future__ import annotations

from typing import Any

import pytest

from label_studio_sso import accounts
from label_studio_sso.errors import Reason


def test_an_active_member_may_log_in(alice: Any) -> None:
    assert accounts.refusal_reason(alice) is None


def test_an_inactive_user_is_refused_before_any_query(alice: Any, django_assert_num_queries: Any) -> None:
    alice.is_active = False
    with django_assert_num_queries(0):
        assert accounts.refusal_reason(alice) == Reason.USER_INACTIVE


def test_a_member_whose_only_membership_is_soft_deleted_is_refused(
    alice: Any, organization_owner: Any
) -> None:
    organization_owner.active_organization.organizationmember_set.get(user=alice).soft_delete()
    assert accounts.refusal_reason(alice) == Reason.USER_DELETED


def test_a_user_never_added_to_an_organization_is_refused(organization_owner: Any) -> None:
    from users.models import User

    loner = User.objects.create_user(email="loner@example.com", password="Loner-password-123")
    assert accounts.refusal_reason(loner) == Reason.USER_DELETED


def test_without_label_studios_organizations_app_active_is_enough(
    alice: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(accounts.apps, "is_installed", lambda name: name != "organizations")
    alice.om_through.all().delete()
    assert accounts.refusal_reason(alice) is None


def test_without_label_studios_organizations_app_any_issuer_may_mint_for_an_active_non_superuser(
    alice: Any, organization_owner: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(accounts.apps, "is_installed", lambda name: name != "organizations")
    assert accounts.issuer_refusal_reason(organization_owner, alice) is None
    alice.is_superuser = True
    assert accounts.issuer_refusal_reason(organization_owner, alice) == Reason.USER_OUTRANKS_ISSUER
