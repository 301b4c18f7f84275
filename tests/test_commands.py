"""Management commands: an operator's login URL, and purging redeemed records."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import CommandError, call_command
from django.test import Client, override_settings
from django.utils import timezone

from label_studio_sso.models import RedeemedToken
from tests.support.label_studio import whoami


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue().strip()


def test_sso_login_url_prints_a_url_that_logs_the_user_in(alice: Any) -> None:
    url = urlsplit(run("sso_login_url", "Alice@Example.com", "--next", "/projects/"))

    assert (url.scheme, url.netloc, url.path) == ("http", "localhost:8080", "/api/sso/login")
    assert parse_qs(url.query)["next"] == ["/projects/"]
    browser = Client()
    response = browser.get(f"{url.path}?{url.query}")
    assert response["Location"] == "/projects/"
    assert whoami(browser) == "alice@example.com"


def test_sso_login_url_uses_the_given_base_url_or_label_studios_host(alice: Any) -> None:
    assert run(
        "sso_login_url", "alice@example.com", "--base-url", "https://ls.example.com/ignored"
    ).startswith("https://ls.example.com/api/sso/login?token=")
    with override_settings(HOSTNAME="https://public.example.com"):
        assert run("sso_login_url", "alice@example.com").startswith(
            "https://public.example.com/api/sso/login?token="
        )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nobody@example.com"], "No Label Studio user"),
        (["alice@example.com", "--next", "https://evil.example"], "--next must be a path"),
        (["alice@example.com", "--base-url", "ftp://x"], "--base-url must be"),
    ],
)
def test_sso_login_url_explains_what_is_wrong(alice: Any, args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        run("sso_login_url", *args)


def test_sso_login_url_refuses_a_deactivated_user(make_user: Any) -> None:
    make_user("gone@example.com", active=False)
    with pytest.raises(CommandError, match="deactivated"):
        call_command("sso_login_url", "gone@example.com")


def test_purge_sso_tokens_deletes_expired_records(alice: Any) -> None:
    RedeemedToken.objects.create(
        jti="e" * 32, user_id=alice.pk, expires_at=timezone.now() - timedelta(minutes=1)
    )
    RedeemedToken.objects.create(
        jti="f" * 32, user_id=alice.pk, expires_at=timezone.now() + timedelta(minutes=5)
    )
    assert run("purge_sso_tokens") == "deleted 1 expired redeemed-token records"
    assert list(RedeemedToken.objects.values_list("jti", flat=True)) == ["f" * 32]


def test_origin_of_refuses_what_is_not_an_http_url() -> None:
    from label_studio_sso.origins import origin_of

    assert origin_of("http://[::1") is None
    assert origin_of("https://ls.example.com:8443/x?y") == "https://ls.example.com:8443"
