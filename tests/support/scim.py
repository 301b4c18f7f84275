"""A SCIM client for the tests: the identity provider's side, over Django's test client or HTTP.

Request bodies are the shapes Okta and Microsoft Entra ID document for their SCIM 2.0
provisioning; the constants name the RFC 7643/7644 schema URNs.
"""

from __future__ import annotations

import json
from typing import Any

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
SEARCH = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
TOKEN = "scim-Test-token_" + "0123456789abcdef" * 2  # 48 characters of RFC 6750's alphabet
CONTENT_TYPE = "application/scim+json"


def okta_user(email: str, given: str = "Carol", family: str = "Jones", **extra: Any) -> dict[str, Any]:
    """POST /Users as Okta sends it (its SCIM 2.0 guide): the email is userName and the primary email."""
    return {
        "schemas": [USER],
        "userName": email,
        "name": {"givenName": given, "familyName": family},
        "emails": [{"primary": True, "value": email, "type": "work"}],
        "displayName": f"{given} {family}",
        "locale": "en-US",
        "externalId": "00ujl29u0le5T6Aj10h7",
        "groups": [],
        "password": "Okta-sends-a-password-when-sync-is-on-1",
        "active": True,
        **extra,
    }


def entra_user(upn: str, mail: str, given: str = "Dana", family: str = "Lee") -> dict[str, Any]:
    """POST /Users as Microsoft Entra ID sends it (its SCIM tutorial), enterprise extension included."""
    return {
        "schemas": [USER, ENTERPRISE],
        "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
        "userName": upn,
        "active": True,
        "addresses": [{"primary": True, "type": "work", "country": "DE"}],
        "displayName": f"{given} {family}",
        "emails": [{"primary": True, "type": "work", "value": mail}],
        "meta": {"resourceType": "User"},
        "name": {"formatted": f"{given} {family}", "familyName": family, "givenName": given},
        "roles": [],
        "title": "Annotator",
        ENTERPRISE: {"employeeNumber": "1234", "department": "Data"},
    }


def patch(*operations: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [PATCH_OP], "Operations": list(operations)}


class Scim:
    """The identity provider: bearer-token requests to /scim/v2/ through a Django test client."""

    def __init__(self, client: Any, token: str | None = TOKEN) -> None:
        self.client = client
        self.headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}

    def call(
        self, method: str, path: str, body: Any = None, *, raw: bytes | None = None, **extra: Any
    ) -> Any:
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        kwargs = {**self.headers, **extra}
        if data is not None:
            kwargs.setdefault("content_type", CONTENT_TYPE)
        return getattr(self.client, method)(f"/scim/v2/{path}", data=data, **kwargs)

    def get(self, path: str, **extra: Any) -> Any:
        return self.call("get", path, **extra)

    def post(self, path: str, body: Any = None, **extra: Any) -> Any:
        return self.call("post", path, body, **extra)

    def put(self, path: str, body: Any = None, **extra: Any) -> Any:
        return self.call("put", path, body, **extra)

    def patch(self, path: str, body: Any = None, **extra: Any) -> Any:
        return self.call("patch", path, body, **extra)

    def delete(self, path: str, **extra: Any) -> Any:
        return self.call("delete", path, **extra)


def scim_error(response: Any) -> tuple[int, str | None]:
    """(status, scimType) of a SCIM error answer, after checking it is one."""
    assert response["Content-Type"].startswith(CONTENT_TYPE), response["Content-Type"]
    body = response.json()
    assert body["schemas"] == [ERROR] and body["status"] == str(response.status_code), body
    assert body["detail"], body
    return response.status_code, body.get("scimType")


PASSING = {"SUCCESS", "COMPLIANT", "ACCEPTABLE"}
# (check, what its reason names) -> why it does not apply; docs/scim.md says the same.
NOT_APPLICABLE = {
    (
        "check_remove_attribute",
        "'active'",
    ): "a user is active or not: removing active is refused (400 mutability)",
}


def conformance(base_url: str) -> list[tuple[str, str, str]]:
    """(check, status, reason) for every check scim2-tester runs against the service at ``base_url``."""
    from httpx2 import Client
    from scim2_client.engines.httpx2 import SyncSCIMClient
    from scim2_tester import check_server

    with Client(base_url=base_url, headers={"Authorization": f"Bearer {TOKEN}"}) as http:
        results = check_server(SyncSCIMClient(http))
    return [
        (result.title, result.status.name, (result.reason or "").replace("\n", " ")[:200])
        for result in results
    ]


def failing(rows: list[tuple[str, str, str]]) -> list[tuple[str, str]]:
    """The checks that neither pass nor are listed in NOT_APPLICABLE."""
    return [
        (title, reason)
        for title, status, reason in rows
        if status not in PASSING
        and not any(title == check and named in reason for check, named in NOT_APPLICABLE)
    ]
