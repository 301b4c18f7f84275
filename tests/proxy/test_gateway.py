"""Trusted gateways in front of Label Studio: identity from plain headers or a signed assertion.

The Django test client stands for the gateway's forwarded request (its ``REMOTE_ADDR`` is the
peer); the assertions are signed by an independent implementation (Node's ``jose``) whose keys
Label Studio fetches over HTTPS. The real reverse proxy in front of the image is in
``tests/e2e/test_gateway_proxy.py``.
"""

from __future__ import annotations

import base64
import json
import logging
import time
from typing import Any

import pytest
from django.test import Client

from tests.support.gateway import GATEWAY

STRANGER = "203.0.113.9"


def through(peer: str = GATEWAY) -> Client:
    """A browser whose requests reach Label Studio from ``peer``."""
    return Client(REMOTE_ADDR=peer)


def forwarded(browser: Client, path: str = "/api/current-user/whoami", **headers: str) -> Any:
    return browser.get(path, headers=headers)


def whoami_via(browser: Client, **headers: str) -> str | None:
    response = forwarded(browser, **headers)
    return response.json()["email"] if response.status_code == 200 else None


def session_user(browser: Client) -> str | None:
    """Whom the browser's session belongs to, asked from a peer that is no gateway (so only the
    session speaks, whatever the gateway would assert)."""
    response = browser.get("/api/current-user/whoami", REMOTE_ADDR=STRANGER)
    return response.json()["email"] if response.status_code == 200 else None


def test_groups_are_separated_by_commas_or_pipes(headers_gateway: None, settings: Any, alice: Any) -> None:
    settings.SSO_STAFF_GROUPS = "ls-admins"
    for groups, staff in (("annotators|ls-admins", True), ("annotators", False), ("ls-admins, x", True)):
        whoami_via(through(), **{"X-Forwarded-Email": "alice@example.com", "X-Forwarded-Groups": groups})
        alice.refresh_from_db()
        assert alice.is_staff is staff, groups


def test_the_gateways_user_is_logged_in_with_names_and_groups(
    headers_gateway: None, settings: Any, alice: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings.SSO_STAFF_GROUPS = "ls-admins"
    browser = through()
    with caplog.at_level(logging.INFO, logger="label_studio_sso.audit"):
        email = whoami_via(
            browser,
            **{"X-Forwarded-Email": "alice@example.com", "X-Forwarded-Name": "Alice Mary Gateway",
               "X-Forwarded-Groups": "annotators, ls-admins"},
        )  # fmt: skip

    alice.refresh_from_db()
    assert email == alice.email
    assert (alice.first_name, alice.last_name, alice.is_staff) == ("Alice Mary", "Gateway", True)
    assert f"sso login succeeded: user_id={alice.pk} via=gateway created=no" in caplog.text


def test_the_steady_state_is_an_ordinary_session_and_a_changed_identity_logs_in_again(
    headers_gateway: None, alice: Any, caplog: pytest.LogCaptureFixture
) -> None:
    browser = through()
    identity = {"X-Forwarded-Email": "alice@example.com", "X-Forwarded-Groups": "annotators"}
    whoami_via(browser, **identity)
    session = browser.cookies["sessionid"].value
    caplog.clear()

    with caplog.at_level(logging.INFO, logger="label_studio_sso.audit"):
        for _ in range(3):
            assert whoami_via(browser, **identity) == alice.email
        steady = caplog.text
        assert (
            whoami_via(browser, **{**identity, "X-Forwarded-Groups": "annotators,reviewers"}) == alice.email
        )

    assert "sso login succeeded" not in steady
    assert browser.cookies["sessionid"].value != session  # the new login cycled the session
    assert caplog.text.count("sso login succeeded") == 1


def test_the_gateway_switching_users_replaces_the_session(
    headers_gateway: None, alice: Any, bob: Any
) -> None:
    browser = through()
    assert whoami_via(browser, **{"X-Forwarded-Email": "alice@example.com"}) == alice.email

    assert whoami_via(browser, **{"X-Forwarded-Email": "bob@example.com"}) == bob.email
    assert session_user(browser) == bob.email


def test_a_request_without_an_identity_is_anonymous_whatever_its_session(
    headers_gateway: None, alice: Any
) -> None:
    browser = through()
    assert whoami_via(browser, **{"X-Forwarded-Email": "alice@example.com"}) == alice.email

    assert whoami_via(browser) is None
    assert forwarded(browser, "/projects/").status_code == 302  # to Label Studio's login page


def test_headers_from_an_untrusted_peer_are_ignored_and_logged_even_with_a_forwarded_for(
    headers_gateway: None, alice: Any, caplog: pytest.LogCaptureFixture
) -> None:
    browser = through(STRANGER)
    forged = {"X-Forwarded-Email": "alice@example.com", "X-Forwarded-For": GATEWAY, "X-Real-Ip": GATEWAY}

    with caplog.at_level(logging.INFO, logger="label_studio_sso.audit"):
        email = whoami_via(browser, **forged)

    assert email is None
    assert session_user(browser) is None
    assert f"sso gateway headers ignored: peer={STRANGER} headers=X-Forwarded-Email" in caplog.text
    assert "alice@example.com" not in caplog.text  # names of headers, never their values


def test_the_audit_names_the_client_the_trusted_hops_vouch_for(
    headers_gateway: None, settings: Any, alice: Any
) -> None:
    from django.test import RequestFactory

    from label_studio_sso.proxy.peers import client_address

    def client(peer: str, forwarded_for: str) -> str:
        return client_address(RequestFactory().get("/", REMOTE_ADDR=peer, HTTP_X_FORWARDED_FOR=forwarded_for))

    assert client(GATEWAY, "198.51.100.7") == "198.51.100.7"
    assert client(GATEWAY, "10.0.0.99, 198.51.100.7, 10.0.0.6") == "198.51.100.7"  # spoofed left part
    assert client(GATEWAY, "not-an-address") == GATEWAY
    assert client(STRANGER, "10.0.0.6") == STRANGER  # an untrusted peer's header is not read
    assert client("::ffff:10.0.0.5", "198.51.100.7") == "198.51.100.7"


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"X-Forwarded-Email": "alice@example.com,bob@example.com"}, "invalid-email"),  # sent twice
        ({"X-Forwarded-Email": "not-an-address"}, "invalid-email"),
        ({"X-Forwarded-Email": "a" * 300 + "@example.com"}, "invalid-email"),
        ({"X-Forwarded-Email": "a@evil.test@example.com"}, "invalid-email"),
        ({"X-Forwarded-Email": "alice@example.com", "X-Forwarded-Name": "Al\x07ice"}, "invalid-claim"),
        ({"X-Forwarded-Email": "alice@example.com", "X-Forwarded-Groups": "g" * 201}, "invalid-claim"),
        ({"X-Forwarded-Email": "alice@example.com", "X-Forwarded-Name": "\xff\xfe"}, "invalid-claim"),
        ({"X-Forwarded-Email": "alice@example.com", "X-Forwarded-Groups": "x" * 5000}, "invalid-claim"),
    ],
)
def test_malformed_identity_headers_get_400_and_end_the_session(
    headers_gateway: None, alice: Any, headers: dict[str, str], reason: str
) -> None:
    browser = through()
    assert whoami_via(browser, **{"X-Forwarded-Email": "alice@example.com"}) == alice.email

    response = forwarded(browser, **headers)

    assert (response.status_code, response.json()["error_code"]) == (400, "GATEWAY_IDENTITY_INVALID")
    assert response["X-Label-Studio-SSO"] == reason
    assert session_user(browser) is None


@pytest.mark.parametrize(
    ("email", "settings_changes", "reason"),
    [
        ("carol@example.com", {}, "user-inactive"),
        ("nobody@example.com", {}, "user-creation-off"),
        ("alice@example.com", {"SSO_REQUIRED_GROUPS": "ls-users"}, "not-in-required-group"),
        ("dana@other.example", {"SSO_CREATE_USERS": True, "SSO_ALLOWED_EMAIL_DOMAINS": "example.com"},
         "email-domain-not-allowed"),
    ],
)  # fmt: skip
def test_users_the_rules_refuse_get_403_with_a_sentence_and_nothing_written(
    headers_gateway: None,
    settings: Any,
    make_user: Any,
    alice: Any,
    email: str,
    settings_changes: dict[str, Any],
    reason: str,
) -> None:
    from users.models import User

    make_user("carol@example.com", active=False)
    for name, value in settings_changes.items():
        setattr(settings, name, value)
    users = User.objects.count()

    api = forwarded(through(), **{"X-Forwarded-Email": email})
    page = through().get("/projects/", headers={"X-Forwarded-Email": email, "Accept": "text/html"})

    assert (api.status_code, api.json()["error_code"], api["X-Label-Studio-SSO"]) == (
        403,
        "GATEWAY_USER_REFUSED",
        reason,
    )
    assert page.status_code == 403 and page["Content-Type"].startswith("text/html")
    assert User.objects.count() == users
    assert not User.objects.get(email="carol@example.com").is_active


def test_a_new_user_is_created_on_the_first_request(
    headers_gateway: None, settings: Any, caplog: Any
) -> None:
    from users.models import User

    settings.SSO_CREATE_USERS = True
    browser = through()
    with caplog.at_level(logging.INFO, logger="label_studio_sso.audit"):
        email = whoami_via(
            browser, **{"X-Forwarded-Email": "dana@example.com", "X-Forwarded-Name": "Dana New"}
        )

    dana = User.objects.get(email="dana@example.com")
    assert email == dana.email
    assert (dana.first_name, dana.last_name, dana.has_usable_password()) == ("Dana", "New", False)
    assert f"sso login succeeded: user_id={dana.pk} via=gateway created=yes" in caplog.text


def test_without_gateway_settings_the_headers_mean_nothing(organization_owner: Any, alice: Any) -> None:
    browser = through()
    assert whoami_via(browser, **{"X-Forwarded-Email": "alice@example.com"}) is None


# --- gateways that sign an assertion ------------------------------------------------------


def test_a_signed_assertion_logs_its_user_in_and_plain_headers_are_then_ignored(
    assertion_gateway: Any, alice: Any, bob: Any
) -> None:
    browser = through()
    assertion = assertion_gateway.sign(
        assertion_gateway.assertion_claims("alice@example.com", name="Alice A")
    )

    assert whoami_via(browser, **{"Cf-Access-Jwt-Assertion": assertion}) == alice.email
    assert whoami_via(through(), **{"X-Forwarded-Email": "bob@example.com"}) is None
    both = {"Cf-Access-Jwt-Assertion": assertion, "X-Forwarded-Email": "bob@example.com"}
    assert whoami_via(through(), **both) == alice.email


@pytest.mark.parametrize("alg", ["RS256", "ES256", "EdDSA"])
def test_assertions_in_every_pinned_algorithm_verify(assertion_gateway: Any, alice: Any, alg: str) -> None:
    assertion = assertion_gateway.sign(assertion_gateway.assertion_claims(), alg)
    assert whoami_via(through(), **{"Cf-Access-Jwt-Assertion": assertion}) == alice.email


def _unsigned(claims: dict[str, Any], header: dict[str, Any]) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part(header)}.{part(claims)}."


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda g: g.sign(g.assertion_claims(aud="another-app")), "wrong-audience"),
        (lambda g: g.sign(g.assertion_claims(iss="https://evil.example.test")), "wrong-issuer"),
        (lambda g: g.sign(g.assertion_claims(exp=int(time.time()) - 120)), "expired"),
        (lambda g: g.sign(g.assertion_claims(email=None)), "missing-claim"),
        (lambda g: g.sign(g.assertion_claims(), kid="not-a-published-key"), "unknown-key"),
        (lambda g: _unsigned(g.assertion_claims(), {"alg": "none"}), "malformed-token"),
        (lambda g: _unsigned(g.assertion_claims(), {"alg": "none"}) + "AAAA", "unsupported-algorithm"),
        (lambda g: "x" * 9000, "token-too-large"),
        (lambda g: "not a jwt", "malformed-token"),
    ],
)
def test_assertions_that_do_not_verify_get_401_and_end_the_session(
    assertion_gateway: Any, alice: Any, make: Any, reason: str
) -> None:
    browser = through()
    good = assertion_gateway.sign(assertion_gateway.assertion_claims())
    assert whoami_via(browser, **{"Cf-Access-Jwt-Assertion": good}) == alice.email

    response = forwarded(browser, **{"Cf-Access-Jwt-Assertion": make(assertion_gateway)})

    assert (response.status_code, response.json()["error_code"]) == (401, "GATEWAY_ASSERTION_INVALID")
    assert response["X-Label-Studio-SSO"] == reason
    assert session_user(browser) is None


def test_an_hmac_assertion_keyed_with_the_gateways_public_key_is_refused(
    assertion_gateway: Any, alice: Any
) -> None:
    import hashlib
    import hmac

    import requests

    published = requests.get(assertion_gateway.jwks_url, verify=assertion_gateway.ca_file, timeout=10).json()
    key = json.dumps(published["keys"][0]).encode()
    unsigned = _unsigned(
        assertion_gateway.assertion_claims(), {"alg": "HS256", "kid": published["keys"][0]["kid"]}
    )
    signature = hmac.new(key, unsigned[:-1].encode(), hashlib.sha256).digest()
    forged = unsigned + base64.urlsafe_b64encode(signature).rstrip(b"=").decode()

    response = forwarded(through(), **{"Cf-Access-Jwt-Assertion": forged})

    assert (response.status_code, response["X-Label-Studio-SSO"]) == (401, "unsupported-algorithm")


def test_the_key_endpoint_down_for_minutes_leaves_cached_keys_working_with_bounded_refetches(
    assertion_gateway: Any, alice: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from label_studio_sso import jwks

    clock = [time.monotonic()]
    monkeypatch.setattr(jwks.time, "monotonic", lambda: clock[0])
    browser = through()
    assert whoami_via(
        browser, **{"Cf-Access-Jwt-Assertion": assertion_gateway.sign(assertion_gateway.assertion_claims())}
    )
    assertion_gateway.jwks_mode("down")
    fetches = assertion_gateway.fetches()

    answers = []
    for _minute in range(5):
        clock[0] += 60
        for _ in range(10):
            fresh = assertion_gateway.sign(assertion_gateway.assertion_claims())
            answers.append(whoami_via(through(), **{"Cf-Access-Jwt-Assertion": fresh}))
            unknown = assertion_gateway.sign(assertion_gateway.assertion_claims(), kid="rotated-meanwhile")
            refused = forwarded(through(), **{"Cf-Access-Jwt-Assertion": unknown})
            assert (refused.status_code, refused["X-Label-Studio-SSO"]) == (401, "provider-unavailable")

    assert answers == [alice.email] * 50
    assert assertion_gateway.fetches() - fetches == 5  # one per SSO_JWKS_MIN_REFRESH, not one per request


def test_a_database_failure_while_creating_the_user_is_503_with_nothing_written(
    headers_gateway: None, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    from django.db import OperationalError, connection
    from users.models import User

    settings.SSO_CREATE_USERS = True

    def inserts_fail(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if sql.lstrip().upper().startswith("INSERT"):
            raise OperationalError("disk I/O error")
        return execute(sql, params, many, context)

    browser = Client(REMOTE_ADDR=GATEWAY, raise_request_exception=False)
    with connection.execute_wrapper(inserts_fail):
        response = forwarded(browser, **{"X-Forwarded-Email": "dana@example.com"})

    assert (response.status_code, response.json()["error_code"]) == (503, "DATABASE_UNAVAILABLE")
    assert (response["Retry-After"], response["X-Label-Studio-SSO"]) == ("5", "database-unavailable")
    assert not User.objects.filter(email="dana@example.com").exists()
    assert session_user(browser) is None
    assert "sso login refused: reason=database-unavailable via=gateway" in caplog.text


def test_with_the_gateway_required_nothing_but_health_reaches_label_studio_around_it(
    headers_gateway: None,
    settings: Any,
    alice: Any,
    alice_browser: Client,
    owner_token: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings.SSO_PROXY_REQUIRED = True
    alice_browser.defaults["REMOTE_ADDR"] = STRANGER  # her session, sent straight to Label Studio
    stranger = through(STRANGER)

    with caplog.at_level(logging.INFO, logger="label_studio_sso.audit"):
        answers = [
            alice_browser.get("/api/current-user/whoami"),
            stranger.get("/api/projects/", headers={"Authorization": f"Token {owner_token}"}),
            stranger.post("/user/login/", {"email": "alice@example.com", "password": "x"}),
            stranger.get("/api/current-user/whoami", headers={"X-Forwarded-Email": "alice@example.com"}),
        ]

    assert [(answer.status_code, answer.json()["error_code"]) for answer in answers] == [
        (403, "GATEWAY_REQUIRED")
    ] * 4
    assert caplog.text.count(f"sso request refused: peer={STRANGER}") == 4
    assert stranger.get("/health").status_code == 200
    assert whoami_via(through(), **{"X-Forwarded-Email": "alice@example.com"}) == "alice@example.com"


def test_a_header_name_with_an_underscore_is_refused_with_why_and_what_instead() -> None:
    from label_studio_sso.conf import OPTIONS_BY_NAME, InvalidSetting

    with pytest.raises(InvalidSetting) as refused:
        OPTIONS_BY_NAME["SSO_PROXY_EMAIL_HEADER"].clean("OIDC_CLAIM_email")

    message = str(refused.value)
    assert "No _: gunicorn and most proxies drop headers" in message
    assert 'RequestHeader set X-Forwarded-Email "%{OIDC_CLAIM_email}e"' in message
