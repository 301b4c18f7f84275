"""Users created on first login, names and groups applied: the token API with ``"create": true``."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.support.label_studio import legacy_token_of, whoami


@pytest.fixture
def creating(settings: Any) -> Any:
    """SSO_CREATE_USERS on (the settings reload with the change)."""
    settings.SSO_CREATE_USERS = True
    return settings


def users(email: str) -> Any:
    from users.models import User

    return User.objects.filter(email__iexact=email)


def code_of(response: Any) -> tuple[int, str]:
    return response.status_code, response.json().get("error_code", "")


def test_a_new_user_is_created_as_a_member_who_can_work_at_once(
    creating: Any, api: Any, owner_token: str, organization_owner: Any, caplog: pytest.LogCaptureFixture
) -> None:
    body = {"email": "Dana@Example.com", "create": True, "first_name": "Dana", "last_name": "Scully"}
    response = api(body, auth=f"Token {owner_token}")

    assert response.status_code == 200, response.content
    dana = users("dana@example.com").get()
    organization = organization_owner.active_organization
    assert dana.email == "dana@example.com"  # ASCII letters stored in lower case
    assert (dana.first_name, dana.last_name, dana.username) == ("Dana", "Scully", "dana")
    assert not dana.has_usable_password()
    assert not dana.is_staff and not dana.is_superuser and dana.is_active
    assert dana.active_organization == organization
    assert organization.members.filter(user=dana, deleted_at__isnull=True).exists()
    assert (
        f"sso user created: user_id={dana.pk} via=token-api issuer_id={organization_owner.pk}" in caplog.text
    )

    browser = Client()
    browser.get(f"/?token={response.json()['token']}")
    assert whoami(browser) == "dana@example.com"
    people = browser.get(f"/api/organizations/{organization.pk}/memberships?page_size=100").json()["results"]
    assert "dana@example.com" in [member["user"]["email"] for member in people]


def test_the_same_person_asking_again_in_another_case_gets_the_same_user(
    creating: Any, api: Any, owner_token: str, organization_owner: Any
) -> None:
    first = api({"email": "dana@example.com", "create": True}, auth=f"Token {owner_token}")
    again = api({"email": "DANA@example.com", "create": True}, auth=f"Token {owner_token}")
    assert (first.status_code, again.status_code) == (200, 200)
    assert users("dana@example.com").count() == 1


def test_creation_is_off_by_default_and_says_so_without_revealing_other_organizations_users(
    api: Any, owner_token: str, alice: Any
) -> None:
    from organizations.functions import create_organization
    from users.models import User

    stranger = User.objects.create_user(email="stranger@example.com", password="Stranger-password-123")
    create_organization(title="Elsewhere", created_by=stranger)
    for email in ("dana@example.com", "stranger@example.com"):  # unknown, or someone else's: one answer
        response = api({"email": email, "create": True}, auth=f"Token {owner_token}")
        assert code_of(response) == (403, "USER_CREATION_OFF")
    assert api({"email": "alice@example.com", "create": True}, auth=f"Token {owner_token}").status_code == 200
    plain = api({"email": "dana@example.com"}, auth=f"Token {owner_token}")  # a 6.x client: no change
    assert code_of(plain) == (422, "USER_NOT_FOUND")
    assert not users("dana@example.com").exists()


def test_without_create_an_unknown_email_is_still_not_found(
    creating: Any, api: Any, owner_token: str, organization_owner: Any
) -> None:
    assert code_of(api({"email": "dana@example.com"}, auth=f"Token {owner_token}")) == (422, "USER_NOT_FOUND")
    assert not users("dana@example.com").exists()


def test_only_allowed_domains_are_created(
    creating: Any, api: Any, owner_token: str, organization_owner: Any
) -> None:
    creating.SSO_ALLOWED_EMAIL_DOMAINS = "example.com"
    for email in ("dana@evil.example", "dana@sub.example.com", "dana@example.com.evil.example"):
        response = api({"email": email, "create": True}, auth=f"Token {owner_token}")
        assert code_of(response) == (403, "EMAIL_DOMAIN_NOT_ALLOWED"), email
        assert not users(email).exists()
    assert api({"email": "dana@EXAMPLE.com", "create": True}, auth=f"Token {owner_token}").status_code == 200


def test_a_deactivated_or_removed_user_is_never_reactivated_re_added_or_recreated(
    creating: Any, api: Any, owner_token: str, organization_owner: Any, make_user: Any
) -> None:
    gone = make_user("gone@example.com", active=False)
    removed = make_user("removed@example.com")
    organization_owner.active_organization.members.get(user=removed).soft_delete()
    for email in ("gone@example.com", "removed@example.com", "GONE@example.com"):
        response = api({"email": email, "create": True, "first_name": "X"}, auth=f"Token {owner_token}")
        assert code_of(response) == (422, "USER_INACTIVE"), email
    gone.refresh_from_db()
    removed.refresh_from_db()
    assert not gone.is_active and gone.first_name == ""
    assert organization_owner.active_organization.members.get(user=removed).deleted_at is not None
    assert users("gone@example.com").count() == users("removed@example.com").count() == 1


def test_an_email_taken_outside_the_callers_organizations_is_not_found_and_left_alone(
    creating: Any, api: Any, owner_token: str, organization_owner: Any
) -> None:
    from organizations.functions import create_organization
    from users.models import User

    stranger = User.objects.create_user(email="stranger@example.com", password="Stranger-password-123")
    create_organization(title="Elsewhere", created_by=stranger)
    response = api(
        {"email": "stranger@example.com", "create": True, "last_name": "X"}, auth=f"Token {owner_token}"
    )
    assert code_of(response) == (422, "USER_NOT_FOUND")
    stranger.refresh_from_db()
    assert stranger.last_name == "" and stranger.organizations.count() == 1


def test_names_are_refreshed_on_each_request_and_the_audit_names_fields_not_values(
    api: Any, owner_token: str, alice: Any, caplog: pytest.LogCaptureFixture
) -> None:
    response = api(
        {"email": "alice@example.com", "first_name": "Alicia", "last_name": "Liddell"},
        auth=f"Token {owner_token}",
    )
    assert response.status_code == 200
    alice.refresh_from_db()
    assert (alice.first_name, alice.last_name) == ("Alicia", "Liddell")
    assert f"sso user updated: user_id={alice.pk} fields=first_name,last_name via=token-api" in caplog.text
    assert "Liddell" not in caplog.text


def test_required_groups_refuse_an_identity_in_none_of_them(
    creating: Any, api: Any, owner_token: str, alice: Any
) -> None:
    creating.SSO_REQUIRED_GROUPS = "Annotators, QA"
    auth = f"Token {owner_token}"
    assert code_of(api({"email": "alice@example.com"}, auth=auth)) == (403, "NOT_IN_REQUIRED_GROUP")
    assert code_of(api({"email": "alice@example.com", "groups": ["annotators"]}, auth=auth)) == (
        403,
        "NOT_IN_REQUIRED_GROUP",
    )  # group names are compared exactly
    refused = api({"email": "dana@example.com", "create": True, "groups": []}, auth=auth)
    assert code_of(refused) == (403, "NOT_IN_REQUIRED_GROUP")
    assert not users("dana@example.com").exists()
    assert api({"email": "alice@example.com", "groups": ["QA"]}, auth=auth).status_code == 200


def test_staff_groups_need_a_superuser_caller_to_change_the_staff_flag(
    creating: Any, api: Any, owner_token: str, alice: Any, make_user: Any
) -> None:
    creating.SSO_STAFF_GROUPS = "LS admins"
    staff_caller = f"Token {owner_token}"
    root = f"Token {legacy_token_of(make_user('root@example.com', superuser=True, staff=True))}"

    new_admin = {"email": "dana@example.com", "create": True, "groups": ["LS admins"]}
    assert code_of(api(new_admin, auth=staff_caller)) == (403, "STAFF_CHANGE_NOT_ALLOWED")
    assert not users("dana@example.com").exists()  # refused before anything was written
    promote = {"email": "alice@example.com", "groups": ["LS admins"], "first_name": "Boss"}
    assert code_of(api(promote, auth=staff_caller)) == (403, "STAFF_CHANGE_NOT_ALLOWED")
    alice.refresh_from_db()
    assert not alice.is_staff and alice.first_name == ""
    assert (
        api({"email": "alice@example.com", "groups": []}, auth=staff_caller).status_code == 200
    )  # no change

    assert api(new_admin, auth=root).status_code == 200
    assert users("dana@example.com").get().is_staff
    assert api(promote, auth=root).status_code == 200
    alice.refresh_from_db()
    assert alice.is_staff
    assert api({"email": "alice@example.com", "groups": ["Annotators"]}, auth=root).status_code == 200
    alice.refresh_from_db()
    assert not alice.is_staff  # removed on the next login that carries groups
    assert api({"email": "alice@example.com"}, auth=root).status_code == 200  # no groups: left alone


def test_new_users_join_sso_organization_only_if_the_caller_is_a_member(
    creating: Any, api: Any, owner_token: str, organization_owner: Any
) -> None:
    from organizations.functions import create_organization
    from users.models import User

    other_owner = User.objects.create_user(email="other@example.com", password="Other-password-123")
    elsewhere = create_organization(title="Elsewhere", created_by=other_owner)
    creating.SSO_ORGANIZATION = elsewhere.pk
    response = api({"email": "dana@example.com", "create": True}, auth=f"Token {owner_token}")
    assert code_of(response) == (403, "ISSUER_OUTSIDE_ORGANIZATION")
    creating.SSO_ORGANIZATION = elsewhere.pk + 1000
    assert code_of(api({"email": "dana@example.com", "create": True}, auth=f"Token {owner_token}")) == (
        409,
        "NO_ORGANIZATION",
    )
    assert not users("dana@example.com").exists()
    creating.SSO_ORGANIZATION = organization_owner.active_organization.pk
    assert api({"email": "dana@example.com", "create": True}, auth=f"Token {owner_token}").status_code == 200


@pytest.mark.parametrize(
    "extra",
    [
        {"create": "yes"},
        {"create": 1},
        {"first_name": 7},
        {"last_name": "x" * 151},
        {"first_name": "Dana\u202e"},
        {"groups": "LS admins"},
        {"groups": ["ok", 3]},
        {"groups": [""]},
        {"groups": ["g"] * 101},
    ],
)
def test_a_malformed_identity_is_a_clear_400_and_creates_nothing(
    creating: Any, api: Any, owner_token: str, organization_owner: Any, extra: dict[str, Any]
) -> None:
    response = api({"email": "dana@example.com", "create": True, **extra}, auth=f"Token {owner_token}")
    assert code_of(response) == (400, "INVALID_IDENTITY")
    assert not users("dana@example.com").exists()


def test_a_first_login_that_loses_the_race_to_create_gets_the_winners_user(
    creating: Any, api: Any, owner_token: str, organization_owner: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between our look-up and our insert another replica created the user: one user, no error."""
    from users.models import User

    from label_studio_sso import provisioning

    real_find = provisioning.find_user_by_email
    looked_up: list[str] = []

    def find_while_another_login_creates(email: str) -> Any:
        if not looked_up:
            looked_up.append(email)
            winner = User.objects.create_user(email="dana@example.com", password=None)
            organization_owner.active_organization.add_user(winner)
            return real_find("nobody-yet@example.com")  # what our look-up saw: no such user
        return real_find(email)

    monkeypatch.setattr(provisioning, "find_user_by_email", find_while_another_login_creates)
    response = api({"email": "dana@example.com", "create": True}, auth=f"Token {owner_token}")

    assert response.status_code == 200, response.content
    assert users("dana@example.com").count() == 1
