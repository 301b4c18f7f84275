"""SCIM 2.0 provisioning on Label Studio's real apps: discovery, Okta's and Entra ID's request shapes.

The requests are the ones Okta's and Microsoft Entra ID's SCIM guides document (PATCH
``replace`` with no path, ``active`` as the string ``"False"``, ``emails[type eq "work"].value``,
group members removed by value). The independent conformance checker runs against the
image in ``tests/e2e/test_scim_image.py``; hostile requests are in ``test_hostile.py``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from tests.support.label_studio import whoami
from tests.support.scim import (
    GROUP,
    LIST,
    SEARCH,
    USER,
    Scim,
    entra_user,
    okta_user,
    patch,
    scim_error,
)


def user_named(email: str) -> Any:
    from users.models import User

    return User.objects.get(email=email)


def found(scim: Scim, query: str) -> list[dict[str, Any]]:
    response = scim.get(f"Users?{query}")
    assert response.status_code == 200, response.content
    assert response.json()["schemas"] == [LIST]
    return response.json().get("Resources", [])


# --- discovery ------------------------------------------------------------------------------


def test_the_service_announces_patch_and_filters_and_its_bearer_token(scim: Scim) -> None:
    config = scim.get("ServiceProviderConfig").json()

    assert config["patch"] == {"supported": True}
    assert config["filter"] == {"supported": True, "maxResults": 200}
    assert config["bulk"]["supported"] is False and config["etag"] == {"supported": False}
    assert config["authenticationSchemes"][0]["type"] == "oauthbearertoken"


def test_the_published_schemas_name_only_what_label_studio_keeps(scim: Scim) -> None:
    types = {item["id"]: item for item in scim.get("ResourceTypes").json()["Resources"]}
    user = scim.get(f"Schemas/{USER}").json()
    group = scim.get(f"Schemas/{GROUP}").json()

    assert {name: item["endpoint"] for name, item in types.items()} == {"User": "/Users", "Group": "/Groups"}
    assert [attribute["name"] for attribute in user["attributes"]] == [
        "userName",
        "name",
        "emails",
        "active",
        "groups",
    ]
    name = next(attribute for attribute in user["attributes"] if attribute["name"] == "name")
    assert [sub["name"] for sub in name["subAttributes"]] == ["familyName", "givenName"]
    groups = next(attribute for attribute in user["attributes"] if attribute["name"] == "groups")
    assert groups["mutability"] == "readOnly"
    assert [attribute["name"] for attribute in group["attributes"]] == ["displayName", "members"]
    assert scim.get("Schemas/urn:ietf:params:scim:schemas:core:2.0:Pet").status_code == 404


# --- Okta -----------------------------------------------------------------------------------


def test_okta_looks_the_user_up_then_creates_them_as_a_member_who_signs_in_by_sso(
    scim: Scim, organization_owner: Any, caplog: pytest.LogCaptureFixture
) -> None:
    assert found(scim, 'filter=userName eq "carol@example.com"&startIndex=1&count=100') == []

    with caplog.at_level(logging.INFO, logger="label_studio_sso.audit"):
        response = scim.post("Users", okta_user("carol@example.com"))

    assert response.status_code == 201, response.content
    body = response.json()
    carol = user_named("carol@example.com")
    assert response["Location"] == f"http://testserver/scim/v2/Users/{carol.pk}" == body["meta"]["location"]
    assert body["id"] == str(carol.pk) and body["active"] is True
    assert body["name"] == {"givenName": "Carol", "familyName": "Jones"}
    assert body["externalId"] == "00ujl29u0le5T6Aj10h7"
    assert (carol.first_name, carol.last_name, carol.is_active) == ("Carol", "Jones", True)
    assert not carol.has_usable_password()  # Okta's password is dropped: SSO signs this user in
    assert carol.active_organization == organization_owner.active_organization
    assert carol.om_through.filter(organization=organization_owner.active_organization).exists()
    assert f"sso user created: user_id={carol.pk} via=scim" in caplog.text
    assert [item["id"] for item in found(scim, 'filter=userName eq "Carol@Example.com"')] == [str(carol.pk)]


def test_okta_deactivates_with_a_replace_without_path_and_the_open_session_ends_at_once(
    scim: Scim, alice: Any, alice_browser: Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="label_studio_sso.audit"):
        response = scim.patch(f"Users/{alice.pk}", patch({"op": "replace", "value": {"active": False}}))

    assert response.status_code == 200, response.content
    assert response.json()["active"] is False
    alice.refresh_from_db()
    assert alice.is_active is False
    assert whoami(alice_browser) is None
    assert f"sso user deactivated: user_id={alice.pk} via=scim" in caplog.text
    assert f"sso sessions ended: user_id={alice.pk} cause=deactivated" in caplog.text


def test_scim_reactivates_but_the_old_session_stays_ended(
    scim: Scim, alice: Any, alice_browser: Client, issue: Callable[..., str]
) -> None:
    scim.patch(f"Users/{alice.pk}", patch({"op": "replace", "value": {"active": False}}))

    response = scim.patch(f"Users/{alice.pk}", patch({"op": "replace", "value": {"active": True}}))

    assert response.json()["active"] is True
    alice.refresh_from_db()
    assert alice.is_active is True
    assert whoami(alice_browser) is None
    fresh = Client()
    fresh.get(f"/?token={issue('alice@example.com')}")
    assert whoami(fresh) == "alice@example.com"


def test_okta_replaces_the_whole_user_with_put(scim: Scim, alice: Any) -> None:
    scim.patch(
        f"Users/{alice.pk}", patch({"op": "add", "value": {"name": {"givenName": "Al", "familyName": "Ice"}}})
    )
    body = okta_user("alice.new@example.com", "Alicia", "Smith")
    del body["name"]["familyName"]

    response = scim.put(f"Users/{alice.pk}", body)

    assert response.status_code == 200, response.content
    alice.refresh_from_db()
    assert (alice.email, alice.first_name, alice.last_name) == ("alice.new@example.com", "Alicia", "")
    assert response.json()["userName"] == "alice.new@example.com"


def test_okta_pushes_a_staff_group_and_its_members_get_and_lose_is_staff(
    scim: Scim, settings: Any, alice: Any, bob: Any
) -> None:
    settings.SSO_STAFF_GROUPS = "ls-admins"
    created = scim.post(
        "Groups",
        {
            "schemas": [GROUP],
            "displayName": "ls-admins",
            "members": [{"value": str(alice.pk), "display": "alice@example.com"}],
        },
    )
    assert created.status_code == 201, created.content
    group = created.json()["id"]
    alice.refresh_from_db()
    assert alice.is_staff is True

    scim.patch(f"Groups/{group}", patch({"op": "add", "path": "members", "value": [{"value": str(bob.pk)}]}))
    scim.patch(f"Groups/{group}", patch({"op": "remove", "path": f'members[value eq "{alice.pk}"]'}))

    alice.refresh_from_db()
    bob.refresh_from_db()
    assert (alice.is_staff, bob.is_staff) == (False, True)
    members = scim.get(f"Groups/{group}").json()["members"]
    assert members == [{"value": str(bob.pk), "$ref": f"http://testserver/scim/v2/Users/{bob.pk}"}]
    assert scim.get(f"Users/{bob.pk}").json()["groups"] == [
        {"value": group, "$ref": f"http://testserver/scim/v2/Groups/{group}", "display": "ls-admins"}
    ]

    renamed = scim.patch(f"Groups/{group}", patch({"op": "replace", "value": {"displayName": "annotators"}}))
    assert renamed.json()["displayName"] == "annotators"
    bob.refresh_from_db()
    assert bob.is_staff is False


def test_deleting_a_staff_group_takes_the_flag_from_its_members(
    scim: Scim, settings: Any, alice: Any
) -> None:
    settings.SSO_STAFF_GROUPS = "ls-admins"
    group = scim.post(
        "Groups", {"schemas": [GROUP], "displayName": "ls-admins", "members": [{"value": str(alice.pk)}]}
    )

    assert scim.delete(f"Groups/{group.json()['id']}").status_code == 204

    alice.refresh_from_db()
    assert alice.is_staff is False
    assert scim.get(f"Groups/{group.json()['id']}").status_code == 404


def test_without_staff_groups_scim_groups_leave_staff_flags_alone(
    scim: Scim, make_user: Callable[..., Any]
) -> None:
    staff = make_user("staff@example.com", staff=True)

    scim.post(
        "Groups", {"schemas": [GROUP], "displayName": "anything", "members": [{"value": str(staff.pk)}]}
    )
    scim.post("Groups", {"schemas": [GROUP], "displayName": "empty"})

    staff.refresh_from_db()
    assert staff.is_staff is True


# --- Microsoft Entra ID ---------------------------------------------------------------------


def test_entra_creates_a_user_with_the_enterprise_extension_and_attributes_label_studio_does_not_keep(
    scim: Scim,
) -> None:
    response = scim.post("Users", entra_user("dana.lee@contoso.example", "dana@example.com"))

    assert response.status_code == 201, response.content
    dana = user_named("dana@example.com")
    assert (dana.first_name, dana.last_name) == ("Dana", "Lee")
    body = response.json()
    assert body["userName"] == "dana.lee@contoso.example"  # the provider's key, as it sent it
    assert body["emails"] == [{"value": "dana@example.com", "type": "work", "primary": True}]
    assert "title" not in body and "addresses" not in body
    assert [item["id"] for item in found(scim, 'filter=userName eq "dana.lee@contoso.example"')] == [
        body["id"]
    ]
    assert found(scim, 'filter=userName eq "dana@example.com"') == []


def test_entra_deactivates_with_the_string_False_and_a_path(
    scim: Scim, alice: Any, alice_browser: Client
) -> None:
    response = scim.patch(f"Users/{alice.pk}", patch({"op": "Replace", "path": "active", "value": "False"}))

    assert response.status_code == 200, response.content
    alice.refresh_from_db()
    assert alice.is_active is False
    assert whoami(alice_browser) is None


def test_entra_changes_the_work_email_through_a_filtered_path(scim: Scim, alice: Any) -> None:
    response = scim.patch(
        f"Users/{alice.pk}",
        patch(
            {"op": "Replace", "path": 'emails[type eq "work"].value', "value": "alice.w@example.com"},
            {"op": "Add", "path": "name.familyName", "value": "Walker"},
            {"op": "Add", "path": "externalId", "value": "3bd7c4e5-0c2b-4a0f-9d43-6f1e0e6f0a11"},
        ),
    )

    assert response.status_code == 200, response.content
    alice.refresh_from_db()
    assert (alice.email, alice.last_name) == ("alice.w@example.com", "Walker")
    assert found(scim, 'filter=externalId eq "3bd7c4e5-0c2b-4a0f-9d43-6f1e0e6f0a11"')[0]["id"] == str(
        alice.pk
    )


def test_entra_adds_a_work_email_a_user_did_not_have_by_its_filter(scim: Scim) -> None:
    created = scim.post(
        "Users", okta_user("erin@example.com", emails=[{"value": "erin@example.com", "type": "home"}])
    )
    erin = created.json()["id"]

    response = scim.patch(
        f"Users/{erin}",
        patch({"op": "Add", "path": 'emails[type eq "work"].value', "value": "erin.w@example.com"}),
    )

    assert response.status_code == 200, response.content
    assert user_named("erin.w@example.com").pk == int(erin)


def test_entra_removes_a_group_member_by_value_and_asks_groups_without_members(
    scim: Scim, settings: Any, alice: Any
) -> None:
    settings.SSO_STAFF_GROUPS = "Label Studio admins"
    group = scim.post(
        "Groups", {"schemas": [GROUP], "displayName": "Label Studio admins", "externalId": "8aa1a0c0"}
    ).json()["id"]
    scim.patch(
        f"Groups/{group}", patch({"op": "Add", "path": "members", "value": [{"value": str(alice.pk)}]})
    )

    listed = scim.get('Groups?excludedAttributes=members&filter=displayName eq "Label Studio admins"').json()
    response = scim.patch(
        f"Groups/{group}", patch({"op": "Remove", "path": "members", "value": [{"value": str(alice.pk)}]})
    )

    assert listed["totalResults"] == 1 and "members" not in listed["Resources"][0]
    assert listed["Resources"][0]["externalId"] == "8aa1a0c0"
    assert response.status_code == 200, response.content
    alice.refresh_from_db()
    assert alice.is_staff is False
    assert "members" not in scim.get(f"Groups/{group}").json()


# --- lists, filters, search -----------------------------------------------------------------


def test_lists_are_paged_from_start_index_up_to_200(scim: Scim, make_user: Callable[..., Any]) -> None:
    for number in range(5):
        make_user(f"user{number}@example.com")

    second_page = scim.get("Users?startIndex=2&count=2").json()
    counted = scim.get("Users?count=0").json()
    below_one = scim.get("Users?startIndex=0&count=1000").json()

    assert (second_page["totalResults"], second_page["startIndex"], second_page["itemsPerPage"]) == (6, 2, 2)
    assert [item["userName"] for item in second_page["Resources"]] == [
        "user0@example.com",
        "user1@example.com",
    ]
    assert (counted["totalResults"], counted["itemsPerPage"], counted.get("Resources", [])) == (6, 0, [])
    assert (below_one["startIndex"], below_one["itemsPerPage"]) == (1, 6)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ('userName sw "user1"', ["user1@example.com"]),
        ('userName co "ser2@"', ["user2@example.com"]),
        ('emails.value ew "3@example.com"', ["user3@example.com"]),
        ('emails[type eq "work" and value eq "USER1@example.com"]', ["user1@example.com"]),
        ("active eq false", ["user2@example.com"]),
        ('not (userName pr) or userName eq "user3@example.com"', ["user3@example.com"]),
        (
            'userName eq "user1@example.com" or userName eq "user3@example.com"',
            ["user1@example.com", "user3@example.com"],
        ),
        ('userName eq "user1@example.com" and active eq false', []),
        ('name.familyName eq "Three"', ["user3@example.com"]),
        (
            'meta.created gt "2000-01-01T00:00:00Z" and userName sw "user"',
            ["user1@example.com", "user2@example.com", "user3@example.com"],
        ),
    ],
)
def test_filters_are_the_rfc_grammar_decided_by_the_library(
    scim: Scim, make_user: Callable[..., Any], query: str, expected: list[str]
) -> None:
    make_user("user1@example.com")
    make_user("user2@example.com", active=False)
    three = make_user("user3@example.com")
    three.last_name = "Three"
    three.save()

    names = [item["userName"] for item in found(scim, f"filter={query}")]

    assert names == expected


def test_a_user_name_outside_ascii_is_found_in_any_case(scim: Scim, make_user: Callable[..., Any]) -> None:
    zoe = make_user("zoë.örn@example.com")

    assert [item["id"] for item in found(scim, 'filter=userName eq "ZOË.Örn@example.com"')] == [str(zoe.pk)]


def test_attributes_and_excluded_attributes_shape_the_answer(scim: Scim, alice: Any) -> None:
    only = scim.get(f"Users/{alice.pk}?attributes=userName").json()
    without = scim.get(f"Users/{alice.pk}?excludedAttributes=emails,groups").json()

    assert set(only) == {"schemas", "id", "userName"}
    assert "emails" not in without and without["userName"] == "alice@example.com"


def test_a_search_request_by_post_answers_like_the_list(scim: Scim, alice: Any, bob: Any) -> None:
    body = {"schemas": [SEARCH], "filter": 'userName sw "b"', "attributes": ["userName"], "count": 10}

    per_type = scim.post("Users/.search", body).json()
    everywhere = scim.post(".search", body).json()

    assert per_type["Resources"] == [{"schemas": [USER], "id": str(bob.pk), "userName": "bob@example.com"}]
    assert everywhere["Resources"] == per_type["Resources"]


def test_no_group_shares_an_id_with_a_user(scim: Scim, alice: Any, bob: Any) -> None:
    for name in ("one", "two", "three"):
        scim.post("Groups", {"schemas": [GROUP], "displayName": name})

    everything = scim.post(".search", {"schemas": [SEARCH]}).json()["Resources"]
    ids = [item["id"] for item in everything]

    assert len(ids) == len(set(ids)) == 6  # RFC 7643 3.1: unique across the whole service
    assert scim.get(f"Groups/{alice.pk}").status_code == 404
    group = next(item for item in everything if item["schemas"] == [GROUP])
    assert scim.get(f"Users/{group['id']}").status_code == 404
    assert scim.get(f"Groups/{group['id']}").json()["displayName"] == group["displayName"]


# --- deletion -------------------------------------------------------------------------------


def test_delete_deactivates_keeps_the_annotations_and_the_user_answers_404_until_created_again(
    scim: Scim, alice: Any, alice_browser: Client, organization_owner: Any
) -> None:
    from projects.models import Project
    from tasks.models import Annotation, Task

    project = Project.objects.create(
        title="P", created_by=organization_owner, organization=organization_owner.active_organization
    )
    task = Task.objects.create(project=project, data={"text": "t"})
    Annotation.objects.create(task=task, project=project, completed_by=alice, result=[])

    assert scim.delete(f"Users/{alice.pk}").status_code == 204

    alice.refresh_from_db()
    assert alice.is_active is False
    assert Annotation.objects.filter(completed_by=alice).count() == 1
    assert whoami(alice_browser) is None
    assert scim.get(f"Users/{alice.pk}").status_code == 404
    assert (
        scim.patch(f"Users/{alice.pk}", patch({"op": "replace", "value": {"active": True}})).status_code
        == 404
    )
    assert found(scim, 'filter=userName eq "alice@example.com"') == []
    alice.refresh_from_db()
    assert alice.is_active is False

    again = scim.post("Users", okta_user("alice@example.com", "Alice", "Again"))

    assert again.status_code == 201, again.content
    assert again.json()["id"] == str(alice.pk) and again.json()["active"] is True
    alice.refresh_from_db()
    assert (alice.is_active, alice.last_name) == (True, "Again")
    assert Annotation.objects.filter(completed_by=alice).count() == 1


def test_a_deleted_user_comes_back_only_under_its_own_user_name_and_never_through_a_look_alike(
    scim: Scim, organization_owner: Any
) -> None:
    bob = scim.post("Users", okta_user("bob@example.com", "Bob", "Old")).json()
    assert scim.delete(f"Users/{bob['id']}").status_code == 204

    look_alike = scim.post("Users", {**okta_user("bob@\uff45xample.com"), "userName": "mallory"})
    other_name = scim.post("Users", {**okta_user("bob@example.com"), "userName": "mallory"})

    assert scim_error(look_alike) == (400, "invalidValue")
    assert scim_error(other_name) == (409, "uniqueness")
    assert user_named("bob@example.com").is_active is False
    again = scim.post("Users", okta_user("BOB@example.com", "Bob", "Back"))
    assert (again.status_code, again.json()["id"], again.json()["userName"]) == (
        201,
        bob["id"],
        "BOB@example.com",
    )


def test_scim_changes_or_deletes_a_superuser_only_when_the_operator_allows_it(
    scim: Scim, make_user: Callable[..., Any], settings: Any
) -> None:
    root = make_user("root@example.com", staff=True, superuser=True)
    make_user("second-root@example.com", staff=True, superuser=True)  # so root is not the last one
    renamed = patch({"op": "replace", "path": "emails[primary eq true].value", "value": "root@evil.test"})

    assert scim_error(scim.patch(f"Users/{root.pk}", renamed)) == (403, None)
    assert scim_error(scim.delete(f"Users/{root.pk}")) == (403, None)
    root.refresh_from_db()
    assert (root.email, root.is_active) == ("root@example.com", True)

    settings.SSO_SCIM_SUPERUSERS = True
    assert scim.patch(f"Users/{root.pk}", renamed).status_code == 200
    root.refresh_from_db()
    assert root.email == "root@evil.test"
