"""Session-authenticated writes must come from Label Studio's own origin."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client, override_settings
from projects.models import Project

from tests.support.label_studio import legacy_token_of


def create_project(client: Client, title: str, **headers: Any) -> Any:
    return client.post("/api/projects/", {"title": title}, content_type="application/json", **headers)


def test_label_studios_own_ui_can_create_and_edit_a_project(alice_browser: Client) -> None:
    created = create_project(alice_browser, "mine", HTTP_ORIGIN="http://testserver")
    assert created.status_code == 201

    edited = alice_browser.patch(
        f"/api/projects/{created.json()['id']}/",
        {"title": "renamed"},
        content_type="application/json",
        HTTP_ORIGIN="http://testserver",
    )
    assert edited.status_code == 200
    assert Project.objects.get(pk=created.json()["id"]).title == "renamed"


def test_a_same_origin_referer_is_enough_without_origin(alice_browser: Client) -> None:
    assert (
        create_project(alice_browser, "by referer", HTTP_REFERER="http://testserver/projects/").status_code
        == 201
    )


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_ORIGIN": "https://evil.example"},
        {"HTTP_ORIGIN": "null"},
        {"HTTP_ORIGIN": "https://testserver"},
        {"HTTP_ORIGIN": "http://testserver.evil.example"},
        {"HTTP_REFERER": "https://evil.example/page"},
        {"HTTP_REFERER": "not a url"},
        {},
    ],
)
def test_a_foreign_or_missing_origin_is_refused_and_nothing_is_created(
    alice_browser: Client, headers: dict[str, str]
) -> None:
    response = create_project(alice_browser, "forged", **headers)

    assert response.status_code == 403
    assert response.json()["error_code"] == "CROSS_ORIGIN_REFUSED"
    assert not Project.objects.filter(title="forged").exists()


def test_a_foreign_form_post_is_refused(alice_browser: Client) -> None:
    response = alice_browser.post("/api/projects/", {"title": "forged"}, HTTP_ORIGIN="https://evil.example")
    assert response.status_code == 403
    assert not Project.objects.filter(title="forged").exists()


@override_settings(CSRF_TRUSTED_ORIGINS=["https://portal.example.com", "https://*.corp.example"])
@pytest.mark.parametrize(
    "origin", ["https://portal.example.com", "https://ls.corp.example", "https://a.b.corp.example"]
)
def test_csrf_trusted_origins_may_write(alice_browser: Client, origin: str) -> None:
    assert create_project(alice_browser, "trusted", HTTP_ORIGIN=origin).status_code == 201


@override_settings(CSRF_TRUSTED_ORIGINS=["https://*.corp.example"])
def test_a_wildcard_trusted_origin_does_not_match_another_scheme(alice_browser: Client) -> None:
    assert create_project(alice_browser, "x", HTTP_ORIGIN="http://ls.corp.example").status_code == 403


@override_settings(HOSTNAME="https://labelstudio.example.com/ls")
def test_behind_a_proxy_label_studios_configured_host_is_its_own_origin(alice_browser: Client) -> None:
    assert (
        create_project(alice_browser, "proxied", HTTP_ORIGIN="https://labelstudio.example.com").status_code
        == 201
    )


def test_token_authenticated_api_calls_are_unaffected(organization_owner: Any) -> None:
    client = Client()
    response = create_project(
        client,
        "by token",
        HTTP_AUTHORIZATION=f"Token {legacy_token_of(organization_owner)}",
        HTTP_ORIGIN="https://evil.example",
    )
    assert response.status_code == 201


def test_safe_methods_are_unaffected(alice_browser: Client) -> None:
    assert alice_browser.get("/api/projects/", HTTP_ORIGIN="https://evil.example").status_code == 200


def test_anonymous_writes_are_left_to_label_studio(alice: Any) -> None:
    response = create_project(Client(), "anon", HTTP_ORIGIN="https://evil.example")
    assert response.status_code == 401


@pytest.mark.parametrize("headers", [{"HTTP_ORIGIN": "http://[::1"}, {"HTTP_REFERER": "http://[::1/x"}])
def test_unparseable_origins_are_refused(alice_browser: Client, headers: dict[str, str]) -> None:
    assert create_project(alice_browser, "x", **headers).status_code == 403


@override_settings(ALLOWED_HOSTS=["testserver"])
def test_a_request_to_a_disallowed_host_has_no_own_origin(rf: Any) -> None:
    from label_studio_sso.origins import is_allowed_origin

    request = rf.post("/api/projects/", HTTP_HOST="evil.example")  # Django answers 400 before any view
    assert not is_allowed_origin(request, "http://evil.example")


@override_settings(HOSTNAME="/ls")
def test_a_path_only_label_studio_host_adds_no_origin(alice_browser: Client) -> None:
    assert create_project(alice_browser, "path-only host", HTTP_ORIGIN="http://testserver").status_code == 201


def test_a_bearer_authenticated_write_with_a_session_cookie_from_another_origin_is_unaffected(
    alice_browser: Client, organization_owner: Any
) -> None:
    from tests.support.label_studio import personal_access_tokens

    _refresh, access = personal_access_tokens(organization_owner)

    response = create_project(
        alice_browser, "by bearer", HTTP_AUTHORIZATION=f"Bearer {access}", HTTP_ORIGIN="https://evil.example"
    )

    assert response.status_code == 201
    assert Project.objects.get(pk=response.json()["id"]).created_by == organization_owner


def test_an_invalid_bearer_does_not_excuse_a_session_write_from_another_origin(alice_browser: Client) -> None:
    response = create_project(
        alice_browser,
        "by a bad bearer",
        HTTP_AUTHORIZATION="Bearer not-a-token",
        HTTP_ORIGIN="https://evil.example",
    )
    assert response.status_code == 403
    assert not Project.objects.filter(title="by a bad bearer").exists()
