"""SSO_PASSWORD_LOGIN=false: no password signs anyone in, through any of Label Studio's forms;
sign-up is closed; the break-glass login link still works."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from tests.support.label_studio import logged_in_browser, whoami

PASSWORD = "Member-password-123"


@pytest.fixture
def passwords_off(oidc: Any, settings: Any, make_user: Any) -> Any:
    settings.SSO_PASSWORD_LOGIN = False
    return make_user("alice@example.com", staff=True, superuser=True)


def test_the_login_page_shows_only_the_provider(passwords_off: Any) -> None:
    page = Client().get("/user/login/").content.decode()

    assert "Sign in with Example IdP" in page
    assert 'name="password"' not in page
    assert "Sign up" not in page


@pytest.mark.parametrize(
    ("path", "fields"),
    [
        ("/user/login/", {"email": "alice@example.com"}),  # Label Studio's form
        ("/admin/login/", {"username": "alice@example.com"}),  # Django admin's
        ("/api-auth/login/", {"username": "alice@example.com"}),  # the REST framework's
    ],
)
def test_no_password_form_signs_anyone_in(
    passwords_off: Any, path: str, fields: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    browser = Client()
    csrf = "c" * 32  # the hidden form sets no CSRF cookie; a caller can bring its own pair
    browser.cookies["csrftoken"] = csrf

    with caplog.at_level(logging.INFO, logger="label_studio_sso.audit"):
        browser.post(path, {**fields, "password": PASSWORD, "csrfmiddlewaretoken": csrf})

    assert whoami(browser) is None
    assert "sso login refused: reason=password-login-off via=password" in caplog.text
    assert PASSWORD not in caplog.text


def test_passwords_work_while_password_login_is_on(oidc: Any, make_user: Any) -> None:
    make_user("alice@example.com")
    assert whoami(logged_in_browser("alice@example.com", PASSWORD)) == "alice@example.com"
    assert 'name="password"' in Client().get("/user/login/").content.decode()


def test_sign_up_is_closed(passwords_off: Any) -> None:
    from users.models import User

    page = Client().get("/user/signup/?next=/projects/")
    posted = Client().post(
        "/user/signup/",
        {"email": "mallory@example.com", "password": "Mallory-password-1", "how_find_us": "x"},
    )

    assert page.status_code == 302 and page["Location"] == "/user/login/?next=/projects/"
    assert posted.status_code == 403
    assert not User.objects.filter(email="mallory@example.com").exists()


def test_sign_up_stays_label_studios_own_while_password_login_is_on(oidc: Any) -> None:
    page = Client().get("/user/signup/")
    assert page.status_code == 200 and 'name="password"' in page.content.decode()


def test_break_glass_a_login_link_from_the_server_shell(
    passwords_off: Any, settings: Any, capsys: Any
) -> None:
    from tests.support.processes import free_port

    settings.SSO_OIDC_ISSUER = f"https://localhost:{free_port()}"  # and the provider is down
    call_command(
        "sso_login_url", "alice@example.com", "--next", "/projects/", "--base-url", "http://testserver"
    )
    link = capsys.readouterr().out.strip()
    browser = Client()

    response = browser.get(link.removeprefix("http://testserver"))

    assert response.status_code == 302 and response["Location"] == "/projects/"
    assert whoami(browser) == "alice@example.com"
