"""Hostile SCIM requests: each refused with a SCIM error body, and nothing changed.

The caller is whoever reaches ``/scim/v2/``: without the token, with a wrong one, with
filters written to inject, with bodies too large or malformed, reaching for a user of
another organization, or deactivating the last superuser. After each refusal the database
is compared with its state before: no user, group, flag or name may have moved.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client

from tests.support.scim import GROUP, SEARCH, TOKEN, Scim, okta_user, patch, scim_error


def snapshot() -> list[Any]:
    """Every user's columns SCIM can touch, every SCIM row, every membership."""
    from users.models import User

    from label_studio_sso.models import ScimAccount, ScimGroup

    return [
        list(
            User.objects.order_by("pk").values_list(
                "pk", "email", "first_name", "last_name", "is_active", "is_staff"
            )
        ),
        list(ScimAccount.objects.order_by("pk").values()),
        list(ScimGroup.objects.order_by("pk").values()),
        list(ScimGroup.members.through.objects.order_by("pk").values_list("scimgroup_id", "user_id")),
    ]


@pytest.fixture
def unchanged(alice: Any, bob: Any) -> Iterator[None]:
    """The test's refusals must leave the database exactly as it was."""
    before = snapshot()
    yield
    assert snapshot() == before


def deactivation(user: Any) -> dict[str, Any]:
    return patch({"op": "replace", "value": {"active": False}})


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer " + TOKEN[:-1] + "X",
        "Bearer " + TOKEN + "X",
        "Bearer " + TOKEN[:-1],
        "Bearer",
        "Basic " + TOKEN,
        "Token " + TOKEN,
        TOKEN,
        "Bearer " + TOKEN.upper(),
        "Bearer \u200b".encode().decode("latin-1") + TOKEN,  # as WSGI hands over UTF-8 bytes
    ],
)
def test_without_the_token_nothing_is_read_or_changed(
    scim: Scim, alice: Any, unchanged: None, authorization: str | None
) -> None:
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization is not None else {}
    stranger = Client(REMOTE_ADDR="10.20.0.8", **headers)

    for method, path, body in (
        ("get", "/scim/v2/Users", None),
        ("get", f"/scim/v2/Users/{alice.pk}", None),
        ("patch", f"/scim/v2/Users/{alice.pk}", deactivation(alice)),
        ("delete", f"/scim/v2/Users/{alice.pk}", None),
        ("post", "/scim/v2/Users", okta_user("mallory@example.com")),
        ("get", "/scim/v2/ServiceProviderConfig", None),
        ("get", "/scim/v2/NoSuchEndpoint", None),
    ):
        data = json.dumps(body) if body is not None else None
        response = getattr(stranger, method)(path, data=data, content_type="application/scim+json")
        assert scim_error(response) == (401, None), (method, path)
        assert response["WWW-Authenticate"] == 'Bearer realm="SCIM"'


def test_the_token_in_the_query_string_or_a_cookie_is_not_a_credential(
    scim: Scim, alice: Any, unchanged: None
) -> None:
    client = Client(REMOTE_ADDR="10.20.0.8")
    client.cookies["access_token"] = TOKEN

    for path in (f"Users?access_token={TOKEN}", f"Users/{alice.pk}?access_token={TOKEN}"):
        response = client.patch(f"/scim/v2/{path}", data=json.dumps(deactivation(alice)))
        assert scim_error(response) == (401, None)


def test_scim_is_off_until_a_token_is_set(settings: Any, alice: Any, unchanged: None) -> None:
    settings.SSO_SCIM_TOKEN = None

    for token in (TOKEN, ""):
        response = Scim(Client(), token=token or None).patch(f"Users/{alice.pk}", deactivation(alice))
        assert scim_error(response) == (404, None)


@pytest.mark.parametrize(
    "query",
    [
        'userName eq "x" or 1=1 --',
        'userName eq "x" or "1"="1"',
        'userName eq "x"; DROP TABLE htx_user; --',
        'userName eq "x" or userName pr)',
        "userName eq 'alice@example.com'",
        'password eq "Member-password-123"',
        "is_superuser eq true",
        'userName[value eq "x"]',
        'emails[value sw "a"',
        "userName eq " + '"' + "a" * 20000 + '"',
        'userName eq "\x00"',
        'meta.created gt "yesterday"',
    ],
)
def test_filters_that_are_not_the_grammar_are_400_invalidFilter(
    scim: Scim, alice: Any, unchanged: None, query: str
) -> None:
    response = scim.get("Users", QUERY_STRING=f"filter={_quoted(query)}")

    assert scim_error(response) == (400, "invalidFilter")


@pytest.mark.parametrize(
    "query",
    [
        'userName eq "x\\" or \\"1\\"=\\"1"',
        "userName eq \"' OR ''='\"",
        'userName eq "%"',
        'userName co "%"',
        'userName sw "_"',
        'userName eq "ALICE@EXAMPLE.COM\\u0000"',
        'userName eq "alice@example.com" and userName eq "bob@example.com"',
    ],
)
def test_injected_quotes_and_wildcards_are_only_text(scim: Scim, alice: Any, bob: Any, query: str) -> None:
    response = scim.get("Users", QUERY_STRING=f"filter={_quoted(query)}")

    assert response.status_code == 200, response.content
    assert response.json()["totalResults"] == 0


def test_a_deeply_nested_filter_answers_like_the_flat_one(scim: Scim, alice: Any) -> None:
    nested = "(" * 2000 + 'userName eq "alice@example.com"' + ")" * 2000

    response = scim.post(".search", {"schemas": [SEARCH], "filter": nested})

    assert [item["userName"] for item in response.json()["Resources"]] == ["alice@example.com"]


def _quoted(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="")


def test_a_10_mb_body_is_refused_unread_and_a_chunked_one_without_length(scim: Scim, unchanged: None) -> None:
    big = okta_user("big@example.com", given="x" * (10 * 1024 * 1024))

    too_large = scim.post("Users", big)
    unframed = scim.post("Users", raw=b"{}", HTTP_TRANSFER_ENCODING="chunked", CONTENT_LENGTH="")

    assert scim_error(too_large) == (413, None)
    assert too_large["Connection"] == "close"
    assert scim_error(unframed) == (411, None)


@pytest.mark.parametrize(
    "raw",
    [
        b"[]",
        b"null",
        b"not json",
        b'{"userName": "a@example.com", "userName": "b@example.com"}',
        b"[" * 100000 + b"]" * 100000,
        b"\xff\xfe{}",
        b'{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "userName": "a@example.com"}',
        b'{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"]}',
        b'{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "a@example.com"}',
        b'{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "a@example.com",'
        b' "emails": [{"value": "not an address"}]}',
        b'{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "a@example.com",'
        b' "emails": [{"value": "a@example.com"}], "active": "maybe"}',
        b'{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "' + b"u" * 256 + b'",'
        b' "emails": [{"value": "a@example.com"}]}',
        b'{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "a@example.com",'
        b' "emails": [{"value": "a@example.com"}], "name": {"givenName": "' + b"n" * 151 + b'"}}',
        b'{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "a@example.com",'
        b' "emails": [{"value": "a@example.com"}], "name": {"givenName": "A\\u0000"}}',
        b'{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "a@example.com",'
        b' "emails": [{"value": "a@example.com", "type": "' + b"t" * 33 + b'"}]}',
        b'{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": " ",'
        b' "emails": [{"value": "a@example.com"}]}',
    ],
)
def test_bodies_that_are_not_a_valid_user_are_400(scim: Scim, unchanged: None, raw: bytes) -> None:
    response = scim.post("Users", raw=raw)

    status, scim_type = scim_error(response)
    assert status == 400 and scim_type in {"invalidSyntax", "invalidValue"}, response.content


@pytest.mark.parametrize(
    "operations",
    [
        [{"op": "replace", "value": {"active": False}}, {"op": "replace", "path": "userName", "value": ""}],
        [{"op": "replace", "value": {"active": False}}, {"op": "move", "path": "userName"}],
        [{"op": "replace", "path": "name.givenName", "value": "Mallory"}, {"op": "remove", "path": "emails"}],
        [{"op": "replace", "path": "name.givenName", "value": "Mallory"}, {"op": "remove", "path": "active"}],
        [{"op": "replace", "path": "groups", "value": [{"value": "1"}]}],
        [{"op": "replace", "path": "id", "value": "1"}],
        [{"op": "replace", "path": 'emails[type eq "home"', "value": "x@example.com"}],
        [
            {"op": "add", "path": "password", "value": "Mallory-password-1"},
            {"op": "replace", "path": "active"},
        ],
        [],
    ],
)
def test_a_patch_with_one_bad_operation_changes_nothing(
    scim: Scim, alice: Any, unchanged: None, operations: list[dict[str, Any]]
) -> None:
    response = scim.patch(f"Users/{alice.pk}", patch(*operations))

    assert scim_error(response)[0] == 400, response.content


def test_a_user_of_another_organization_is_not_served(scim: Scim, alice: Any) -> None:
    from organizations.functions import create_organization
    from users.models import User

    outsider = User.objects.create_user(email="outsider@example.com", password="Outsider-password-1")
    create_organization(title="Another org", created_by=outsider)
    before = snapshot()

    for method, body in (
        ("get", None),
        ("put", okta_user("outsider@example.com")),
        ("patch", deactivation(outsider)),
        ("delete", None),
    ):
        response = scim.call(method, f"Users/{outsider.pk}", body)
        assert scim_error(response) == (404, None), method
    created = scim.post("Users", okta_user("outsider@example.com"))
    moved = scim.patch(
        f"Users/{alice.pk}", patch({"op": "replace", "path": "userName", "value": "outsider@example.com"})
    )
    renamed = scim.patch(
        f"Users/{alice.pk}",
        patch({"op": "replace", "path": 'emails[type eq "work"].value', "value": "outsider@example.com"}),
    )
    grouped = scim.post(
        "Groups", {"schemas": [GROUP], "displayName": "g", "members": [{"value": str(outsider.pk)}]}
    )
    listed = scim.get('Users?filter=userName eq "outsider@example.com"').json()

    assert scim_error(created) == (409, "uniqueness")
    assert scim_error(moved) == (409, "uniqueness")
    assert scim_error(renamed) == (409, "uniqueness")
    assert scim_error(grouped) == (400, "invalidValue")
    assert listed["totalResults"] == 0
    assert snapshot() == before


def test_the_last_active_superuser_cannot_be_deactivated(
    scim: Scim, organization_owner: Any, make_user: Callable[..., Any], settings: Any
) -> None:
    settings.SSO_SCIM_SUPERUSERS = True  # without it SCIM changes no superuser at all (test_scim)
    organization_owner.is_superuser = True
    organization_owner.save()
    owner = str(organization_owner.pk)
    before = snapshot()

    refusals = [
        scim.patch(f"Users/{owner}", patch({"op": "replace", "value": {"active": False}})),
        scim.patch(f"Users/{owner}", patch({"op": "Replace", "path": "active", "value": "False"})),
        scim.put(f"Users/{owner}", okta_user("owner@example.com", active=False)),
        scim.delete(f"Users/{owner}"),
    ]

    assert [scim_error(response) for response in refusals] == [(400, "mutability")] * 4
    assert snapshot() == before
    make_user("second-admin@example.com", superuser=True)
    assert (
        scim.patch(f"Users/{owner}", patch({"op": "replace", "value": {"active": False}})).status_code == 200
    )


def test_names_and_emails_already_taken_are_409_and_nothing_moves(scim: Scim, alice: Any, bob: Any) -> None:
    scim_bob = scim.patch(f"Users/{bob.pk}", patch({"op": "add", "path": "externalId", "value": "b"}))
    assert scim_bob.status_code == 200
    before = snapshot()

    refusals = [
        scim.post("Users", okta_user("alice@example.com")),
        scim.post("Users", okta_user("ALICE@example.com")),
        scim.post("Users", {**okta_user("new@example.com"), "userName": "bob@example.com"}),
        scim.patch(
            f"Users/{alice.pk}", patch({"op": "replace", "path": "userName", "value": "BOB@example.com"})
        ),
        scim.put(f"Users/{alice.pk}", okta_user("bob@example.com")),
    ]

    assert [scim_error(response) for response in refusals] == [(409, "uniqueness")] * 5
    assert snapshot() == before


def test_creation_follows_sso_create_users_and_the_allowed_domains(
    scim: Scim, settings: Any, alice: Any, unchanged: None
) -> None:
    settings.SSO_ALLOWED_EMAIL_DOMAINS = "example.com"
    outside = [
        scim.post("Users", okta_user("eve@evil.example")),
        scim.post("Users", okta_user("eve@example.com.evil.example")),
        scim.patch(
            f"Users/{alice.pk}",
            patch({"op": "replace", "path": 'emails[type eq "work"].value', "value": "a@evil.example"}),
        ),
    ]
    settings.SSO_CREATE_USERS = False
    creation_off = scim.post("Users", okta_user("carol@example.com"))

    assert [scim_error(response) for response in outside] == [(403, None)] * 3
    assert scim_error(creation_off) == (403, None)


def test_groups_refuse_strangers_as_members_and_names_twice(scim: Scim, alice: Any) -> None:
    first = scim.post("Groups", {"schemas": [GROUP], "displayName": "Annotators"})
    assert first.status_code == 201
    before = snapshot()

    refusals = [
        scim.post("Groups", {"schemas": [GROUP], "displayName": "annotators"}),
        scim.post("Groups", {"schemas": [GROUP], "displayName": "x", "members": [{"value": "999999"}]}),
        scim.post("Groups", {"schemas": [GROUP], "displayName": "x", "members": [{"value": "1 OR 1=1"}]}),
        scim.post("Groups", {"schemas": [GROUP], "displayName": ""}),
        scim.post("Groups", {"schemas": [GROUP], "displayName": "g" * 256}),
        scim.patch(
            f"Groups/{first.json()['id']}",
            patch({"op": "add", "path": "members", "value": [{"value": "-1"}]}),
        ),
    ]

    assert [scim_error(response)[0] for response in refusals] == [409, 400, 400, 400, 400, 400]
    assert snapshot() == before


def test_the_rate_limit_counts_every_request_by_peer_whatever_x_forwarded_for_says(
    scim: Scim, settings: Any, alice: Any
) -> None:
    settings.SSO_SCIM_RATE_LIMIT = "3/m"
    guesser = Client(REMOTE_ADDR="10.20.0.9", HTTP_AUTHORIZATION="Bearer " + "g" * 40)
    answers = [
        guesser.get("/scim/v2/Users", HTTP_X_FORWARDED_FOR=f"198.51.100.{number}").status_code
        for number in range(5)
    ]
    held = Client(REMOTE_ADDR="10.20.0.9", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").get("/scim/v2/Users")

    assert answers == [401, 401, 401, 429, 429]
    assert scim_error(held) == (429, None)
    assert int(held["Retry-After"]) >= 1
    assert scim.get("Users").status_code == 200  # another peer has its own count


def test_unknown_ids_and_paths_are_404(scim: Scim, unchanged: None) -> None:
    for path in (
        "Users/0",
        "Users/999999",
        "Users/abc",
        "Users/1%20OR%201=1",
        "Users/" + "9" * 40,
        "Groups/x",
        "Pets",
    ):
        assert scim_error(scim.get(path)) == (404, None), path
    assert scim_error(scim.call("post", "ServiceProviderConfig", {})) == (405, None)


def test_a_database_failure_while_creating_a_user_is_503_with_nothing_written(
    scim: Scim, alice: Any, unchanged: None
) -> None:
    from django.db import OperationalError, connection

    def user_inserts_fail(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if sql.lstrip().upper().startswith('INSERT INTO "HTX_USER"'):
            raise OperationalError("disk I/O error")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(user_inserts_fail):
        response = scim.post("Users", okta_user("carol@example.com"))

    assert scim_error(response) == (503, None)
    assert response["Retry-After"] == "5"


def test_an_email_two_users_share_by_the_email_rule_is_409_and_a_racing_insert_too(
    scim: Scim, make_user: Callable[..., Any]
) -> None:
    from django.db import IntegrityError, connection

    make_user("Carol@example.com")
    make_user("CAROL@example.com")  # two spellings of one address: neither may get a third
    before = snapshot()

    def user_inserts_collide(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if sql.lstrip().upper().startswith('INSERT INTO "HTX_USER"'):
            raise IntegrityError("UNIQUE constraint failed: htx_user.email")  # another request won
        return execute(sql, params, many, context)

    ambiguous = scim.post("Users", okta_user("carol@example.com"))
    with connection.execute_wrapper(user_inserts_collide):
        raced = scim.post("Users", okta_user("dave@example.com"))

    assert scim_error(ambiguous) == (409, "uniqueness")
    assert scim_error(raced) == (409, "uniqueness")
    assert snapshot() == before
