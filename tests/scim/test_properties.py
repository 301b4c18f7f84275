"""Property-based checks (hypothesis) of SCIM: whatever a caller sends, never a 500.

Generated PATCH operations (every op spelling, paths valid and not, any JSON value),
generated user bodies (SCIM's attribute names with any JSON values) and generated filters
(pieces of the grammar joined at random, and any text) all get a success or a SCIM 4xx whose
``detail`` carries nothing the request did.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.scim import ERROR, PATCH_OP, TOKEN, USER

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
MARK = "Zq\u00a7"  # begins every generated text: an error detail must never carry it
MARKED = st.text(max_size=16).map(lambda text: MARK + text)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | MARKED | st.emails(),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(MARKED | st.sampled_from(["value", "type"]), inner, max_size=3)
    ),
    max_leaves=10,
)
ATTRIBUTES = [
    "userName",
    "name",
    "name.givenName",
    "name.familyName",
    "emails",
    "emails.value",
    'emails[type eq "work"].value',
    'emails[value co "@"]',
    "emails[primary eq true].type",
    "active",
    "externalId",
    "groups",
    "id",
    "meta",
    "schemas",
    "displayName",
    "members",
    'members[value eq "1"]',
    "urn:ietf:params:scim:schemas:core:2.0:User:userName",
]
PATHS = st.sampled_from(ATTRIBUTES) | st.text(max_size=30)
OPERATIONS = st.fixed_dictionaries(
    {"op": st.sampled_from(["add", "replace", "remove", "Add", "Replace", "Remove", "move", ""])},
    optional={"path": PATHS, "value": JSON_VALUES},
)
FILTER_PIECES = st.sampled_from(
    [
        *ATTRIBUTES,
        "eq",
        "ne",
        "co",
        "sw",
        "ew",
        "gt",
        "ge",
        "lt",
        "le",
        "pr",
        "and",
        "or",
        "not",
        "(",
        ")",
        "[",
        "]",
        '"x"',
        '"alice@example.com"',
        "true",
        "false",
        "null",
        "42",
        '"2020-01-01T00:00:00Z"',
        '"\\"',
        "'",
    ]
)


@pytest.fixture
def scim_client(settings: Any, organization_owner: Any) -> Client:
    settings.SSO_SCIM_TOKEN = TOKEN
    settings.SSO_CREATE_USERS = True
    settings.SSO_STAFF_GROUPS = "ls-admins"
    settings.SSO_SCIM_RATE_LIMIT = "999999/m"
    return Client(HTTP_AUTHORIZATION=f"Bearer {TOKEN}", raise_request_exception=False)


def assert_answered(response: Any) -> None:
    """A success, or a SCIM error body with a 4xx status and none of the request in it: never a 5xx."""
    assert response.status_code < 500, response.content[:300]
    if response.status_code >= 400:
        assert response.json()["schemas"] == [ERROR], response.content[:300]
        assert MARK not in response.json()["detail"], response.content[:300]


@FUZZ
@given(operations=st.lists(OPERATIONS, max_size=4))
def test_any_patch_of_a_user_is_answered_without_a_500(
    scim_client: Client, alice: Any, operations: list[Any]
) -> None:
    body = json.dumps({"schemas": [PATCH_OP], "Operations": operations})
    assert_answered(
        scim_client.patch(f"/scim/v2/Users/{alice.pk}", body, content_type="application/scim+json")
    )


@FUZZ
@given(
    body=st.fixed_dictionaries(
        {"schemas": st.just([USER]) | JSON_VALUES},
        optional={
            name: JSON_VALUES
            for name in ["userName", "name", "emails", "active", "externalId", "groups", "id"]
        },
    )
)
def test_any_user_body_is_answered_without_a_500(
    scim_client: Client, alice: Any, body: dict[str, Any]
) -> None:
    text = json.dumps(body)
    assert_answered(scim_client.post("/scim/v2/Users", text, content_type="application/scim+json"))
    assert_answered(scim_client.put(f"/scim/v2/Users/{alice.pk}", text, content_type="application/scim+json"))


@FUZZ
@given(query=st.lists(FILTER_PIECES | MARKED.map(json.dumps), min_size=1, max_size=8).map(" ".join) | MARKED)
def test_any_filter_is_answered_without_a_500(scim_client: Client, alice: Any, query: str) -> None:
    encoded = quote(query.encode("utf-8", "surrogatepass"), safe="")
    assert_answered(scim_client.get("/scim/v2/Users", QUERY_STRING=f"filter={encoded}"))
    assert_answered(scim_client.get("/scim/v2/Groups", QUERY_STRING=f"filter={encoded}&attributes={encoded}"))
