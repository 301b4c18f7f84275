"""JWTAuthenticationBackend: authenticates tokens only, refuses inactive session users."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from django.test import Client

from label_studio_sso.backends import JWTAuthenticationBackend
from label_studio_sso.portal.tokens import issue_login_token
from tests.support.label_studio import whoami


def test_authenticate_returns_the_tokens_user_once(alice: Any) -> None:
    token = issue_login_token(alice.pk, alice.email).token
    assert authenticate(None, sso_token=token) == alice
    assert authenticate(None, sso_token=token) is None


def test_the_6x_keyword_token_still_works(alice: Any) -> None:
    token = issue_login_token(alice.pk, alice.email).token
    assert JWTAuthenticationBackend().authenticate(None, token=token) == alice


def test_without_a_token_the_backend_does_nothing(alice: Any) -> None:
    backend = JWTAuthenticationBackend()
    assert backend.authenticate(None) is None
    assert backend.authenticate(None, username="alice@example.com", password="Member-password-123") is None
    assert backend.authenticate(None, token="x", password="Member-password-123") is None


def test_password_logins_are_untouched(alice: Any) -> None:
    assert authenticate(None, email="alice@example.com", password="Member-password-123") == alice


def test_a_bad_token_authenticates_no_one(alice: Any) -> None:
    assert authenticate(None, sso_token="garbage") is None


def test_get_user_refuses_inactive_and_unknown_users(alice: Any) -> None:
    backend = JWTAuthenticationBackend()
    assert backend.get_user(alice.pk) == alice
    alice.is_active = False
    alice.save(update_fields=["is_active"])
    assert backend.get_user(alice.pk) is None
    assert backend.get_user(999999) is None
    assert backend.get_user("not-a-number") is None


def test_a_deactivated_user_loses_the_ui_on_the_next_request(issue: Any, alice: Any) -> None:
    browser = Client()
    browser.get(f"/?token={issue('alice@example.com')}")
    assert whoami(browser) == "alice@example.com"

    alice.is_active = False
    alice.save(update_fields=["is_active"])

    assert whoami(browser) is None
    assert browser.get("/projects/").status_code == 302


def test_the_backend_adds_no_permission_queries(alice: Any, django_assert_num_queries: Any) -> None:
    backend = JWTAuthenticationBackend()
    with django_assert_num_queries(0):
        assert backend.has_perm(alice, "projects.change_project") is False
        assert backend.get_all_permissions(alice) == set()


def test_with_the_database_down_the_backend_authenticates_no_one(alice: Any) -> None:
    from django.db import OperationalError, connection

    token = issue_login_token(alice.pk, alice.email).token

    def database_down(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        raise OperationalError("connection refused")

    with connection.execute_wrapper(database_down):
        assert authenticate(None, sso_token=token) is None
    assert authenticate(None, sso_token=token) == alice
