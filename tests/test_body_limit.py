"""The token API's body cap, enforced before Label Studio's middleware reads any body."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import RequestFactory

from label_studio_sso.errors import MAX_BODY_BYTES
from label_studio_sso.guards.body_limit import (
    SMALLEST_BODY_LIMIT,
    BodyLimit,
    TokenApiBodyLimitMiddleware,
    api_error_unread,
    body_limit_of,
)
from label_studio_sso.http import declared_length
from label_studio_sso.scim.views import MAX_SCIM_BODY_BYTES


def never_called(request: Any) -> Any:
    raise AssertionError("the request went on to the rest of the chain")


def test_an_oversized_token_request_is_refused_with_413_json_and_nothing_read() -> None:
    request = RequestFactory().post(
        "/api/sso/token", data=b"{}", content_type="application/json", CONTENT_LENGTH=str(MAX_BODY_BYTES + 1)
    )
    response = TokenApiBodyLimitMiddleware(never_called)(request)
    assert response.status_code == 413
    assert json.loads(response.content)["error_code"] == "PAYLOAD_TOO_LARGE"
    assert response["Cache-Control"] == "no-store" and response["Connection"] == "close"
    assert not request._read_started  # not a byte of the body was read


def test_other_paths_and_small_bodies_pass_through() -> None:
    factory = RequestFactory()
    passed = []
    middleware = TokenApiBodyLimitMiddleware(lambda request: passed.append(request.path) or "response")
    big = str(MAX_BODY_BYTES * 10)
    middleware(factory.post("/api/projects/", b"{}", content_type="application/json", CONTENT_LENGTH=big))
    middleware(factory.post("/api/sso/token/", data=b"{}", content_type="application/json"))
    assert passed == ["/api/projects/", "/api/sso/token/"]


def test_a_declared_length_that_is_not_a_number_counts_as_none() -> None:
    factory = RequestFactory()
    assert declared_length(factory.get("/", CONTENT_LENGTH="12abc")) == 0
    assert declared_length(factory.get("/", CONTENT_LENGTH="-3")) == 0
    assert declared_length(factory.get("/", CONTENT_LENGTH="42")) == 42


@pytest.mark.parametrize(
    ("path", "max_bytes"),
    [
        ("/api/sso/token", MAX_BODY_BYTES),
        ("/api/sso/logout/", MAX_BODY_BYTES),
        ("/sso/oidc/backchannel-logout/", MAX_BODY_BYTES),
        ("/scim/v2/Users", MAX_SCIM_BODY_BYTES),
        ("/scim/v2/no-such-resource", MAX_SCIM_BODY_BYTES),
    ],
)
def test_every_view_that_reads_a_body_declares_its_limit(path: str, max_bytes: int) -> None:
    limit = body_limit_of(RequestFactory().post(path))
    assert limit is not None and limit.max_bytes == max_bytes


def test_label_studios_own_views_declare_none_and_no_limit_hides_below_the_lookup() -> None:
    assert body_limit_of(RequestFactory().post("/api/projects/")) is None
    assert body_limit_of(RequestFactory().post("/no/such/path")) is None
    with pytest.raises(ValueError, match="SMALLEST_BODY_LIMIT"):
        BodyLimit(SMALLEST_BODY_LIMIT - 1, api_error_unread)
