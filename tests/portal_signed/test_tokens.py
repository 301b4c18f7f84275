"""Portal-signed login tokens: minted by an independent implementation (Node's ``jose``), verified
with public keys from a JWKS over HTTPS or from the configuration, through every transport."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
import uuid
from typing import Any

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from django.test import Client

from label_studio_sso import jwks
from tests.support.label_studio import whoami


def outcome(response: Any) -> str:
    return str(response["X-Label-Studio-SSO"])


def url_login(browser: Client, token: str, path: str = "/projects/") -> Any:
    return browser.get(f"{path}?token={token}")


@pytest.mark.parametrize("alg", ["RS256", "ES256", "EdDSA"])
def test_a_token_the_portal_signed_logs_its_user_in_through_every_transport(
    portal: Any, alice: Any, alg: str
) -> None:
    by_url, by_cookie, by_view = Client(), Client(), Client()

    response = url_login(by_url, portal.sign(portal.portal_claims(), alg))
    by_cookie.cookies["ls_auth_token"] = portal.sign(portal.portal_claims(), alg)
    cookie_response = by_cookie.get("/projects/")
    view_response = by_view.get(
        f"/api/sso/login?token={portal.sign(portal.portal_claims(), alg)}&next=/tasks"
    )

    assert (response.status_code, response["Location"], outcome(response)) == (302, "/projects/", "logged-in")
    assert outcome(cookie_response) == "logged-in"
    assert (view_response.status_code, view_response["Location"]) == (302, "/tasks")
    assert whoami(by_url) == whoami(by_cookie) == whoami(by_view) == alice.email


def test_a_new_user_is_created_with_the_tokens_names_and_groups(
    portal: Any, settings: Any, organization_owner: Any, caplog: pytest.LogCaptureFixture
) -> None:
    from users.models import User

    settings.SSO_CREATE_USERS = True
    settings.SSO_STAFF_GROUPS = "ls-admins"
    claims = portal.portal_claims(
        "dana@example.com", given_name="Dana", family_name="New", groups=["ls-admins"]
    )
    browser = Client()

    with caplog.at_level(logging.INFO, logger="label_studio_sso.audit"):
        url_login(browser, portal.sign(claims))

    dana = User.objects.get(email="dana@example.com")
    assert whoami(browser) == "dana@example.com"
    assert (dana.first_name, dana.last_name, dana.is_staff) == ("Dana", "New", True)
    assert organization_owner.active_organization.has_user(dana)
    assert f"sso user created: user_id={dana.pk} via=issuer" in caplog.text


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"aud": "another-app"}, "wrong-audience"),
        ({"iss": "https://evil.example.test"}, "wrong-issuer"),
        ({"exp": int(time.time()) - 120, "iat": int(time.time()) - 400}, "expired"),
        ({"jti": None}, "missing-claim"),
        ({"exp": None}, "missing-claim"),
        ({"iat": None}, "missing-claim"),
        ({"email": None}, "missing-claim"),
        ({"jti": "short"}, "invalid-claim"),
        ({"email": "alice@example.com,bob@example.com"}, "invalid-email"),
        ({"email": "a@evil.test@example.com"}, "invalid-email"),
        ({"exp": int(time.time()) + 3600}, "lifetime-too-long"),
        ({"email": "nobody@example.com"}, "user-creation-off"),
    ],
)
def test_tokens_the_rules_refuse_log_nobody_in(
    portal: Any, alice: Any, changes: dict[str, Any], reason: str
) -> None:
    browser = Client()
    response = url_login(browser, portal.sign(portal.portal_claims(**changes)))

    assert (response.status_code, outcome(response)) == (302, reason)
    assert whoami(browser) is None


def test_a_token_is_spent_once(portal: Any, alice: Any) -> None:
    token = portal.sign(portal.portal_claims())
    assert outcome(url_login(Client(), token)) == "logged-in"

    second = Client()
    assert outcome(url_login(second, token)) == "replayed"
    assert whoami(second) is None


def _forged(header: dict[str, Any], claims: dict[str, Any], key: bytes | None) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    signing_input = f"{part(header)}.{part(claims)}"
    signature = b"" if key is None else hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + base64.urlsafe_b64encode(signature).rstrip(b"=").decode()


def test_alg_none_and_hmac_keyed_with_the_public_key_are_refused(portal: Any, alice: Any) -> None:
    published = requests.get(portal.jwks_url, verify=portal.ca_file, timeout=10).json()["keys"]
    rsa = next(key for key in published if key["kty"] == "RSA")
    public_pem = jwt.PyJWK(rsa).key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    claims = portal.portal_claims()
    for header, key in (
        ({"alg": "none", "kid": rsa["kid"]}, None),
        ({"alg": "HS256", "kid": rsa["kid"]}, public_pem),
        ({"alg": "HS256", "kid": rsa["kid"]}, json.dumps(rsa).encode()),
    ):
        browser = Client()
        response = url_login(browser, _forged(header, claims, key))
        assert outcome(response) in ("unsupported-algorithm", "unknown-key", "malformed-token"), header
        assert whoami(browser) is None


class Clock:
    """The key cache's clock, moved by the test instead of waiting."""

    def __init__(self) -> None:
        self.now = time.monotonic()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(jwks.time, "monotonic", fake)
    return fake


def test_a_rotated_key_is_fetched_once_the_interval_allows_and_a_retired_one_refused(
    portal: Any, alice: Any, clock: Clock
) -> None:
    assert outcome(url_login(Client(), portal.sign(portal.portal_claims()))) == "logged-in"
    retired = portal.sign(portal.portal_claims())
    portal.rotate("ES256")  # the old key is no longer published
    fetches = portal.fetches()

    too_soon = url_login(Client(), portal.sign(portal.portal_claims()))
    clock.now += 61  # SSO_JWKS_MIN_REFRESH (60 s) later
    fresh = Client()
    after = url_login(fresh, portal.sign(portal.portal_claims()))
    old = url_login(Client(), retired)

    assert outcome(too_soon) == "unknown-key"
    assert outcome(after) == "logged-in"
    assert outcome(old) == "unknown-key"
    assert portal.fetches() == fetches + 1
    assert whoami(fresh) == alice.email


def test_unknown_key_ids_cost_one_fetch_per_interval_not_one_each(portal: Any, alice: Any) -> None:
    assert outcome(url_login(Client(), portal.sign(portal.portal_claims()))) == "logged-in"
    fetches = portal.fetches()

    outcomes = {
        outcome(url_login(Client(), portal.sign(portal.portal_claims(), kid=f"made-up-{n}")))
        for n in range(20)
    }

    assert outcomes == {"unknown-key"}
    assert portal.fetches() - fetches <= 1


@pytest.mark.parametrize("mode", ["down", "slow", "huge", "garbage"])
def test_a_key_endpoint_that_fails_refuses_cleanly_and_cached_keys_keep_working(
    portal: Any, alice: Any, mode: str, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    monkeypatch.setattr(jwks, "FETCH_TIMEOUT_SECONDS", 1)  # the signer's "slow" answers after 3 s
    settings.SSO_JWKS_MIN_REFRESH = 0  # every unknown kid may refetch: the failure is what is counted
    assert outcome(url_login(Client(), portal.sign(portal.portal_claims()))) == "logged-in"
    portal.jwks_mode(mode)

    cached = Client()
    assert outcome(url_login(cached, portal.sign(portal.portal_claims()))) == "logged-in"
    unknown = url_login(Client(), portal.sign(portal.portal_claims(), kid="rotated-while-down"))

    assert whoami(cached) == alice.email
    assert (unknown.status_code, outcome(unknown)) == (302, "provider-unavailable")


def test_a_key_endpoint_down_from_the_start_refuses_and_is_asked_once_per_interval(
    portal: Any, alice: Any, settings: Any
) -> None:
    settings.SSO_JWKS_MIN_REFRESH = 60
    portal.jwks_mode("down")

    outcomes = [outcome(url_login(Client(), portal.sign(portal.portal_claims()))) for _ in range(5)]

    assert outcomes == ["provider-unavailable"] * 5
    assert portal.fetches() == 1


def test_keys_given_as_pem_verify_tokens_with_or_without_a_key_id(
    portal: Any, settings: Any, alice: Any
) -> None:
    published = requests.get(portal.jwks_url, verify=portal.ca_file, timeout=10).json()["keys"]
    ec = next(key for key in published if key["kty"] == "EC")
    pem = (
        jwt.PyJWK(ec)
        .key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    settings.SSO_ISSUER_JWKS_URL = None
    settings.SSO_ISSUER_PUBLIC_KEYS = pem
    fetches = portal.fetches()

    with_thumbprint = url_login(Client(), portal.sign(portal.portal_claims(), kid=portal.thumbprint("ES256")))
    without_kid = url_login(Client(), portal.sign(portal.portal_claims(), kid=""))
    with_another_kid = url_login(Client(), portal.sign(portal.portal_claims()))

    assert outcome(with_thumbprint) == outcome(without_kid) == "logged-in"
    assert outcome(with_another_kid) == "unknown-key"
    assert portal.fetches() == fetches  # configured keys: nothing is fetched


def test_our_own_tokens_keep_working_next_to_the_portals(portal: Any, issue: Any, alice: Any) -> None:
    browser = Client()
    assert outcome(url_login(browser, issue(alice.email))) == "logged-in"
    assert whoami(browser) == alice.email


def _manual_block(language: str, after: str) -> str:
    from tests.support.repository import REPO

    text = (REPO / "docs" / "portal-signed-tokens.md").read_text()
    start = text.index(f"```{language}\n", text.index(after)) + len(language) + 4
    return text[start : text.index("```", start)]


def test_the_manuals_key_commands_and_minting_examples_give_tokens_label_studio_accepts(
    settings: Any, organization_owner: Any, alice: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import subprocess

    from tests.support.oidc import PROVIDER_DIR

    commands = _manual_block("sh", "Make a key pair, give Label Studio the public half")
    subprocess.run(["sh", "-c", commands], cwd=tmp_path, check=True, capture_output=True)
    settings.SSO_ISSUER_PUBLIC_KEYS = (tmp_path / "portal-public.pem").read_text()
    settings.SSO_ISSUER, settings.SSO_ISSUER_AUDIENCE = "https://portal.example.com", "label-studio"
    monkeypatch.chdir(tmp_path)
    python: dict[str, Any] = {}
    exec(_manual_block("python", "The portal mints a token per login"), python)
    script = PROVIDER_DIR / f".readme-example-{uuid.uuid4().hex}.mjs"  # where jose resolves
    script.write_text(_manual_block("js", "or in Node with `jose`") + "console.log(token);\n")
    try:
        node = subprocess.run(["node", str(script)], cwd=tmp_path, check=True, capture_output=True, text=True)
    finally:
        script.unlink()

    for token in (python["token"], node.stdout.strip()):
        browser = Client()
        assert outcome(url_login(browser, token)) == "logged-in"
        assert whoami(browser) == "alice@example.com"
    assert python["login_url"].startswith("https://ls.example.com/api/sso/login?token=ey")


def test_keys_given_in_django_settings_as_a_jwks_document_verify_and_nonsense_is_a_setting_error(
    portal: Any, settings: Any, alice: Any
) -> None:
    from label_studio_sso.checks import check_setting_values

    published = requests.get(portal.jwks_url, verify=portal.ca_file, timeout=10).json()
    settings.SSO_ISSUER_JWKS_URL = None
    settings.SSO_ISSUER_PUBLIC_KEYS = published  # a dict, as a settings.py would write it

    assert outcome(url_login(Client(), portal.sign(portal.portal_claims(), "EdDSA"))) == "logged-in"
    settings.SSO_ISSUER_PUBLIC_KEYS = {"portal": "not a key"}
    assert [error.id for error in check_setting_values()] == ["label_studio_sso.E001"]


def test_a_superuser_is_named_by_a_portal_signed_token_only_when_the_operator_allows_it(
    portal: Any, settings: Any, make_user: Any
) -> None:
    root = make_user("root@example.com", staff=True, superuser=True)
    refused, allowed = Client(), Client()

    response = url_login(refused, portal.sign(portal.portal_claims(root.email)))
    settings.SSO_ISSUER_SUPERUSERS = True
    url_login(allowed, portal.sign(portal.portal_claims(root.email)))

    assert outcome(response) == "user-outranks-issuer"
    assert whoami(refused) is None
    assert whoami(allowed) == root.email
