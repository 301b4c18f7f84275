"""POST /api/sso/token: authenticated exactly as Label Studio's API, every error as JSON."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from django.db import OperationalError, connection
from django.test import Client, override_settings

from label_studio_sso.login_tokens import verify_login_token
from tests.support.label_studio import (
    TEST_SECRET_KEY,
    legacy_token_of,
    logged_in_browser,
    personal_access_tokens,
    whoami,
)


def error_of(response: Any) -> tuple[int, str]:
    body = response.json()
    assert set(body) == {"error", "error_code"}
    assert body["error"]
    return response.status_code, body["error_code"]


def test_a_staff_legacy_token_gets_a_login_token_for_the_user(api: Any, owner_token: str, alice: Any) -> None:
    response = api({"email": "alice@example.com"}, auth=f"Token {owner_token}")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"token", "expires_in", "login_url"}
    assert body["expires_in"] == 600
    assert verify_login_token(body["token"]).user_id == alice.pk
    assert response["Cache-Control"] == "no-store"
    assert response["Referrer-Policy"] == "no-referrer"


def test_the_login_url_is_absolute_and_carries_the_token_and_next(
    api: Any, owner_token: str, alice: Any
) -> None:
    response = api(
        {"email": "alice@example.com", "next": "/projects/3/data?tab=1"}, auth=f"Token {owner_token}"
    )

    body = response.json()
    url = urlsplit(body["login_url"])
    query = parse_qs(url.query)
    assert (url.scheme, url.netloc, url.path) == ("http", "testserver", "/api/sso/login")
    assert query == {"token": [body["token"]], "next": ["/projects/3/data?tab=1"]}


@override_settings(HOSTNAME="https://labelstudio.example.com/ls")
def test_the_login_url_uses_label_studios_public_host_when_configured(
    api: Any, owner_token: str, alice: Any
) -> None:
    response = api({"email": "alice@example.com"}, auth=f"Token {owner_token}")
    assert response.json()["login_url"].startswith("https://labelstudio.example.com/api/sso/login?token=")


def test_x_api_key_works_as_label_studio_rewrites_it_to_a_token(
    api: Any, owner_token: str, alice: Any
) -> None:
    response = api({"email": "alice@example.com"}, HTTP_X_API_KEY=owner_token)
    assert response.status_code == 200


def test_email_is_matched_case_insensitively(api: Any, owner_token: str, alice: Any) -> None:
    response = api({"email": "  ALICE@Example.COM "}, auth=f"Token {owner_token}")
    assert verify_login_token(response.json()["token"]).email == "alice@example.com"


def test_a_personal_access_token_bearer_gets_a_login_token(
    api: Any, organization_owner: Any, alice: Any
) -> None:
    _refresh, access = personal_access_tokens(organization_owner)

    response = api({"email": "alice@example.com"}, auth=f"Bearer {access}")

    assert response.status_code == 200


def test_a_legacy_token_is_refused_when_the_organization_disallows_legacy_tokens(
    api: Any, organization_owner: Any, owner_token: str, alice: Any
) -> None:
    jwt_settings = organization_owner.active_organization.jwt
    jwt_settings.legacy_api_tokens_enabled = False
    jwt_settings.save()

    response = api({"email": "alice@example.com"}, auth=f"Token {owner_token}")

    assert error_of(response) == (401, "NOT_AUTHENTICATED")
    assert "legacy token" in response.json()["error"]


def test_a_personal_access_token_is_refused_when_the_organization_disables_them(
    api: Any, organization_owner: Any, alice: Any
) -> None:
    _refresh, access = personal_access_tokens(organization_owner)
    jwt_settings = organization_owner.active_organization.jwt
    jwt_settings.api_tokens_enabled = False
    jwt_settings.save()

    response = api({"email": "alice@example.com"}, auth=f"Bearer {access}")

    assert error_of(response) == (401, "NOT_AUTHENTICATED")


def test_a_refresh_token_is_not_an_api_credential(api: Any, organization_owner: Any, alice: Any) -> None:
    refresh, _access = personal_access_tokens(organization_owner)
    response = api({"email": "alice@example.com"}, auth=f"Bearer {refresh}")
    assert error_of(response) == (401, "NOT_AUTHENTICATED")


def test_a_login_token_is_not_an_api_credential(api: Any, issue: Any, alice: Any, make_user: Any) -> None:
    make_user("staff@example.com", staff=True)
    login_token = issue("staff@example.com")
    response = api({"email": "alice@example.com"}, auth=f"Bearer {login_token}")
    assert error_of(response) == (401, "NOT_AUTHENTICATED")


@pytest.mark.parametrize("auth", [None, "Token wrong", "Bearer wrong", "Basic b3duZXI6cGFzcw=="])
def test_missing_or_wrong_credentials_get_401(api: Any, alice: Any, auth: str | None) -> None:
    response = api({"email": "alice@example.com"}, auth=auth)
    assert error_of(response) == (401, "NOT_AUTHENTICATED")
    assert response["WWW-Authenticate"] == "Token"


def test_a_browser_session_cannot_issue_login_tokens(organization_owner: Any, alice: Any) -> None:
    browser = logged_in_browser("owner@example.com", "Owner-password-123")
    assert whoami(browser) == "owner@example.com"

    response = browser.post(
        "/api/sso/token",
        {"email": "alice@example.com"},
        content_type="application/json",
        HTTP_ORIGIN="http://testserver",
    )

    assert error_of(response) == (401, "NOT_AUTHENTICATED")


def test_a_non_staff_caller_gets_403(api: Any, alice: Any, bob: Any) -> None:
    response = api({"email": "bob@example.com"}, auth=f"Token {legacy_token_of(alice)}")
    assert error_of(response) == (403, "PERMISSION_DENIED")


def test_an_inactive_staff_caller_gets_401(api: Any, make_user: Any, alice: Any) -> None:
    staff = make_user("staff@example.com", staff=True)
    token = legacy_token_of(staff)
    staff.is_active = False
    staff.save(update_fields=["is_active"])
    response = api({"email": "alice@example.com"}, auth=f"Token {token}")
    assert response.status_code == 401


@override_settings(SSO_TOKEN_ISSUER_PERMISSION="superuser")
def test_superuser_mode_refuses_staff_and_accepts_superusers(
    api: Any, make_user: Any, owner_token: str, alice: Any
) -> None:
    root = make_user("root@example.com", superuser=True)

    assert error_of(api({"email": "alice@example.com"}, auth=f"Token {owner_token}")) == (
        403,
        "PERMISSION_DENIED",
    )
    assert api({"email": "alice@example.com"}, auth=f"Token {legacy_token_of(root)}").status_code == 200


@override_settings(SSO_TOKEN_EXPIRY=42)
def test_expires_in_follows_the_setting(issue: Any, alice: Any) -> None:
    claims = jwt.decode(issue("alice@example.com"), options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 42


@pytest.mark.parametrize(
    ("raw", "content_type", "expected"),
    [
        (b"{not json", "application/json", (400, "INVALID_JSON")),
        (b"[1, 2]", "application/json", (400, "INVALID_JSON")),
        (b'"alice@example.com"', "application/json", (400, "INVALID_JSON")),
        (b"\xff\xfe{}", "application/json", (400, "INVALID_JSON")),
        (b"[" * 5000 + b"]" * 5000, "application/json", (400, "INVALID_JSON")),
        (b'{"n": 1' + b"0" * 5000 + b"}", "application/json", (400, "INVALID_JSON")),
        (b"{}", "application/json", (400, "EMAIL_REQUIRED")),
        (b'{"email": ""}', "application/json", (400, "EMAIL_REQUIRED")),
        (b'{"email": 42}', "application/json", (400, "EMAIL_REQUIRED")),
        (b'{"email": ["alice@example.com"]}', "application/json", (400, "EMAIL_REQUIRED")),
        (b'{"email": "alice@example.com\\u0000"}', "application/json", (400, "INVALID_EMAIL")),
        (
            json.dumps({"email": "a" * 250 + "@example.com"}).encode(),
            "application/json",
            (400, "INVALID_EMAIL"),
        ),
        (b'{"email": "a@evil.test@example.com"}', "application/json", (400, "INVALID_EMAIL")),
        (
            b'{"email": "alice@example.com", "next": "https://evil.example/"}',
            "application/json",
            (400, "INVALID_NEXT"),
        ),
        (
            b'{"email": "alice@example.com", "next": "//evil.example/"}',
            "application/json",
            (400, "INVALID_NEXT"),
        ),
        (
            b'{"email": "alice@example.com", "next": "/\\\\evil.example"}',
            "application/json",
            (400, "INVALID_NEXT"),
        ),
        (b'{"email": "alice@example.com", "next": "projects"}', "application/json", (400, "INVALID_NEXT")),
        (b'{"email": "alice@example.com", "next": 3}', "application/json", (400, "INVALID_NEXT")),
        (b'{"email": "alice@example.com", "next": "/a\\nb"}', "application/json", (400, "INVALID_NEXT")),
        (b'{"email": "nobody@example.com"}', "application/json", (422, "USER_NOT_FOUND")),
        (b"email=alice@example.com", "application/x-www-form-urlencoded", (415, "UNSUPPORTED_MEDIA_TYPE")),
        (b'{"email": "alice@example.com"}', "text/plain", (415, "UNSUPPORTED_MEDIA_TYPE")),
        (
            b'{"email": "alice@example.com"}',
            "application/json; charset=latin-1",
            (415, "UNSUPPORTED_MEDIA_TYPE"),
        ),
        (b'{"email": "' + b"a" * 17000 + b'"}', "application/json", (413, "PAYLOAD_TOO_LARGE")),
    ],
)
def test_every_bad_body_gets_a_clear_4xx_json_error(
    api: Any, owner_token: str, alice: Any, raw: bytes, content_type: str, expected: tuple[int, str]
) -> None:
    response = api(raw=raw, content_type=content_type, auth=f"Token {owner_token}")
    assert error_of(response) == expected


def test_an_empty_json_body_is_invalid_json(api: Any, owner_token: str) -> None:
    response = api(raw=b"", auth=f"Token {owner_token}", CONTENT_TYPE="application/json")
    assert error_of(response) == (400, "INVALID_JSON")


def test_a_body_without_content_type_is_unsupported(api: Any, owner_token: str) -> None:
    response = api(raw=b"", auth=f"Token {owner_token}")
    assert error_of(response) == (415, "UNSUPPORTED_MEDIA_TYPE")


def test_an_inactive_user_gets_422(api: Any, owner_token: str, make_user: Any) -> None:
    make_user("gone@example.com", active=False)
    assert error_of(api({"email": "gone@example.com"}, auth=f"Token {owner_token}")) == (422, "USER_INACTIVE")


def test_a_user_without_a_live_membership_gets_422(
    api: Any, owner_token: str, alice: Any, organization_owner: Any
) -> None:
    membership = organization_owner.active_organization.organizationmember_set.get(user=alice)
    membership.soft_delete()
    assert error_of(api({"email": "alice@example.com"}, auth=f"Token {owner_token}")) == (
        422,
        "USER_INACTIVE",
    )


def test_emails_differing_only_in_case_need_the_exact_case(
    api: Any, owner_token: str, make_user: Any
) -> None:
    first = make_user("Carol@example.com")
    make_user("carol@EXAMPLE.com")

    assert error_of(api({"email": "CAROL@example.com"}, auth=f"Token {owner_token}")) == (
        422,
        "USER_AMBIGUOUS",
    )
    exact = api({"email": "Carol@example.com"}, auth=f"Token {owner_token}")
    assert verify_login_token(exact.json()["token"]).user_id == first.pk


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_other_methods_get_405_json(owner_token: str, method: str) -> None:
    response = getattr(Client(), method)("/api/sso/token", HTTP_AUTHORIZATION=f"Token {owner_token}")
    assert error_of(response) == (405, "METHOD_NOT_ALLOWED")
    assert "POST" in response["Allow"]


def test_the_answer_is_json_whatever_accept_asks_for(api: Any, owner_token: str, alice: Any) -> None:
    response = api({"email": "alice@example.com"}, auth=f"Token {owner_token}", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"


@override_settings(SSO_RATE_LIMIT="3/m")
def test_the_rate_limit_answers_429_with_retry_after(api: Any, owner_token: str, alice: Any) -> None:
    statuses = [
        api({"email": "alice@example.com"}, auth=f"Token {owner_token}").status_code for _ in range(3)
    ]
    limited = api({"email": "alice@example.com"}, auth=f"Token {owner_token}")

    assert statuses == [200, 200, 200]
    assert error_of(limited) == (429, "RATE_LIMITED")
    assert 0 < int(limited["Retry-After"]) <= 60


@override_settings(SSO_RATE_LIMIT="1/m")
def test_the_rate_limit_is_per_issuing_user(api: Any, owner_token: str, make_user: Any, alice: Any) -> None:
    other_issuer = legacy_token_of(make_user("staff@example.com", staff=True))
    assert api({"email": "alice@example.com"}, auth=f"Token {owner_token}").status_code == 200
    assert api({"email": "alice@example.com"}, auth=f"Token {other_issuer}").status_code == 200
    assert api({"email": "alice@example.com"}, auth=f"Token {owner_token}").status_code == 429


def test_an_unreachable_database_answers_503_json(api: Any, owner_token: str, alice: Any) -> None:
    def database_down(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        raise OperationalError("connection refused")

    with connection.execute_wrapper(database_down):
        response = Client(raise_request_exception=False).post(
            "/api/sso/token",
            {"email": "alice@example.com"},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Token {owner_token}",
        )

    assert error_of(response) == (503, "DATABASE_UNAVAILABLE")
    assert response["Retry-After"]


def test_label_studios_api_refuses_a_login_token_as_a_bearer(issue: Any, alice: Any) -> None:
    login_token = issue("alice@example.com")

    response = Client().get("/api/current-user/whoami", HTTP_AUTHORIZATION=f"Bearer {login_token}")

    assert response.status_code == 401


def test_the_login_token_is_not_signed_with_secret_key(issue: Any, alice: Any) -> None:
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(
            issue("alice@example.com"), TEST_SECRET_KEY, algorithms=["HS256"], options={"verify_aud": False}
        )


def test_a_database_failure_inside_the_view_answers_503_json(api: Any, owner_token: str, alice: Any) -> None:
    def users_table_down(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if "UPPER" in sql and "email" in sql:  # the email lookup
            raise OperationalError("connection lost")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(users_table_down):
        response = api({"email": "alice@example.com"}, auth=f"Token {owner_token}")

    assert error_of(response) == (503, "DATABASE_UNAVAILABLE")


def test_an_unparseable_content_length_reads_as_an_empty_body(api: Any, owner_token: str) -> None:
    response = api(
        raw=b"", auth=f"Token {owner_token}", CONTENT_TYPE="application/json", CONTENT_LENGTH="abc"
    )
    assert error_of(response) == (400, "INVALID_JSON")


def test_the_exception_handler_shapes_any_drf_error_and_leaves_the_rest(rf: Any) -> None:
    from rest_framework.exceptions import NotFound

    from label_studio_sso.portal.api_errors import token_api_exception_handler

    response = token_api_exception_handler(NotFound(), {})
    assert (response.status_code, json.loads(response.content)) == (
        404,
        {"error": "The request was refused.", "error_code": "HTTP_404"},
    )
    assert token_api_exception_handler(ValueError("not ours"), {}) is None


def test_the_api_credential_wrapper_passes_the_authenticate_header_through(rf: Any) -> None:
    from rest_framework.authentication import SessionAuthentication
    from rest_framework.request import Request

    from label_studio_sso.portal.api import JsonOnly
    from label_studio_sso.portal.api_access import ApiCredentialOnly

    request = Request(rf.post("/api/sso/token"))
    assert ApiCredentialOnly(SessionAuthentication()).authenticate_header(request) is None
    assert JsonOnly().select_parser(request, []) is None


@override_settings(SSO_RATE_LIMIT="2/m")
def test_the_rate_limit_history_is_kept_in_the_shared_database_table(
    api: Any, owner_token: str, alice: Any
) -> None:
    from label_studio_sso.models import RateLimitRecord

    assert api({"email": "alice@example.com"}, auth=f"Token {owner_token}").status_code == 200
    assert RateLimitRecord.objects.filter(cache_key__contains="sso_token").count() == 1


def test_a_body_naming_email_twice_is_refused_not_read_last_wins(
    api: Any, owner_token: str, alice: Any, bob: Any
) -> None:
    raw = b'{"email": "bob@example.com", "email": "alice@example.com"}'
    response = api(raw=raw, auth=f"Token {owner_token}")
    assert error_of(response) == (400, "INVALID_JSON")
    assert "twice" in response.json()["error"]


@pytest.mark.parametrize("body_limit_middleware", [True, False], ids=["middleware", "view-alone"])
def test_a_chunked_body_without_content_length_gets_411(
    api: Any, owner_token: str, alice: Any, settings: Any, body_limit_middleware: bool
) -> None:
    if not body_limit_middleware:
        settings.MIDDLEWARE = [item for item in settings.MIDDLEWARE if "body_limit" not in item]

    response = api(
        {"email": "alice@example.com"},
        auth=f"Token {owner_token}",
        CONTENT_LENGTH="",
        HTTP_TRANSFER_ENCODING="chunked",
    )

    assert error_of(response) == (411, "LENGTH_REQUIRED")


def test_without_the_first_middleware_the_view_still_refuses_a_large_body_unread(rf: Any) -> None:
    from rest_framework.request import Request

    from label_studio_sso.errors import ApiError
    from label_studio_sso.portal.token_request import parse_token_request

    request = rf.post("/api/sso/token", b"{}", content_type="application/json", CONTENT_LENGTH=str(20 * 1024))
    with pytest.raises(ApiError) as refused:
        parse_token_request(Request(request))
    assert refused.value.code == "PAYLOAD_TOO_LARGE"


def test_a_database_failure_while_authenticating_the_caller_answers_503_json(
    api: Any, owner_token: str, alice: Any
) -> None:
    def tokens_table_down(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if "authtoken_token" in sql:  # Label Studio's legacy-token look-up, inside DRF's authentication
            raise OperationalError("connection lost")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(tokens_table_down):
        response = api({"email": "alice@example.com"}, auth=f"Token {owner_token}")

    assert error_of(response) == (503, "DATABASE_UNAVAILABLE")
