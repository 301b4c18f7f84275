"""Who may mint a login token for whom (POST /api/sso/token)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from label_studio_sso.login_tokens import verify_login_token
from tests.support.label_studio import legacy_token_of


def error_code(response: Any) -> tuple[int, str | None]:
    return response.status_code, response.json().get("error_code")


@pytest.fixture
def other_organization_member() -> Any:
    """A member of another organization, owned by someone else."""
    from organizations.functions import create_organization
    from users.models import User

    stranger = User.objects.create_user(email="stranger@other.example", password="Stranger-password-1")
    organization = create_organization(title="Other org", created_by=stranger, legacy_api_tokens_enabled=True)
    stranger.active_organization = organization
    stranger.save(update_fields=["active_organization"])
    return stranger


def test_a_staff_user_removed_with_label_studios_own_api_can_no_longer_mint_tokens(
    api: Any, organization_owner: Any, owner_token: str, make_user: Callable[..., Any], alice: Any
) -> None:
    staff = make_user("staff@example.com", staff=True)
    staff_token = legacy_token_of(staff)
    assert api({"email": "alice@example.com"}, auth=f"Token {staff_token}").status_code == 200
    organization = organization_owner.active_organization

    removed = Client().delete(
        f"/api/organizations/{organization.pk}/memberships/{staff.pk}/",
        HTTP_AUTHORIZATION=f"Token {owner_token}",
    )
    assert removed.status_code == 204

    for target in ("alice@example.com", "owner@example.com"):
        response = api({"email": target}, auth=f"Token {staff_token}")
        assert error_code(response) == (403, "PERMISSION_DENIED")


def test_a_staff_user_cannot_mint_a_token_for_a_superuser(
    api: Any, make_user: Callable[..., Any], owner_token: str
) -> None:
    root = make_user("root@example.com", superuser=True)

    response = api({"email": "root@example.com"}, auth=f"Token {owner_token}")

    assert error_code(response) == (403, "USER_OUTRANKS_ISSUER")
    assert "token" not in response.json()
    by_superuser = api({"email": "root@example.com"}, auth=f"Token {legacy_token_of(root)}")
    assert verify_login_token(by_superuser.json()["token"]).user_id == root.pk


def test_a_staff_user_may_mint_for_another_staff_user(
    api: Any, make_user: Callable[..., Any], owner_token: str
) -> None:
    colleague = make_user("colleague@example.com", staff=True)
    response = api({"email": "colleague@example.com"}, auth=f"Token {owner_token}")
    assert verify_login_token(response.json()["token"]).user_id == colleague.pk


def test_users_of_another_organization_are_not_found_even_by_a_superuser(
    api: Any, make_user: Callable[..., Any], owner_token: str, other_organization_member: Any
) -> None:
    root = make_user("root@example.com", superuser=True)
    for token in (owner_token, legacy_token_of(root)):
        response = api({"email": "stranger@other.example"}, auth=f"Token {token}")
        assert error_code(response) == (422, "USER_NOT_FOUND")


def test_a_user_removed_from_the_issuers_organization_but_live_in_another_is_refused(
    api: Any, owner_token: str, alice: Any, organization_owner: Any, other_organization_member: Any
) -> None:
    other = other_organization_member.active_organization
    other.add_user(alice)
    organization_owner.active_organization.organizationmember_set.get(user=alice).soft_delete()

    response = api({"email": "alice@example.com"}, auth=f"Token {owner_token}")

    assert error_code(response) == (422, "USER_INACTIVE")


def test_the_login_token_api_answers_the_issuer_of_another_organization_only_for_its_members(
    api: Any, alice: Any, other_organization_member: Any
) -> None:
    other_organization_member.is_staff = True
    other_organization_member.save(update_fields=["is_staff"])
    stranger_token = legacy_token_of(other_organization_member)

    assert error_code(api({"email": "alice@example.com"}, auth=f"Token {stranger_token}")) == (
        422,
        "USER_NOT_FOUND",
    )
    mine = api({"email": "stranger@other.example"}, auth=f"Token {stranger_token}")
    assert verify_login_token(mine.json()["token"]).user_id == other_organization_member.pk


def test_the_issuer_rule_costs_one_query(
    organization_owner: Any, alice: Any, django_assert_num_queries: Any
) -> None:
    from label_studio_sso.accounts import issuer_refusal_reason

    with django_assert_num_queries(1):
        assert issuer_refusal_reason(organization_owner, alice) is None
