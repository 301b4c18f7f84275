"""A provider's answers we must refuse, and callbacks we must not honour.

The real provider runs the sign-in; for the hostile answers it hands back an ID token
this test made (``Provider.next_id_token``) or serves keys this test chose
(``Provider.serve_jwks``). Every case ends on Label Studio's login page with the reason,
anonymous, with the reason in the audit log and nothing created.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable
from typing import Any

import pytest
import requests
from django.test import Client

from label_studio_sso.models import OidcSession
from tests.support.label_studio import logged_in_browser, whoami
from tests.support.oidc import (
    OTHER_CLIENT_ID,
    SigningKey,
    authorization_parameters,
    begin_sign_in,
    callback_path,
    sign_in,
)


@pytest.fixture
def creating(oidc: Any, settings: Any) -> Any:
    """Users may be created (a refusal is then never for want of an account), and the provider
    advertises unsafe algorithms too, as some do (Keycloak lists HS256): we must not follow."""
    settings.SSO_CREATE_USERS = True
    oidc.advertise(id_token_signing_alg_values_supported=["none", "HS256", "RS256"])
    return oidc


def nothing_happened(browser: Client, response: Any, reason: str, caplog: pytest.LogCaptureFixture) -> None:
    from users.models import User

    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith("/user/login/?next=")
    assert authorization_parameters(location)["sso_error"] == reason
    assert whoami(browser) is None
    assert not User.objects.filter(email="erin@example.com").exists()
    assert not OidcSession.objects.exists()
    assert f"sso login refused: reason={reason} via=oidc" in caplog.text


def unsigned(claims: dict[str, Any], header: dict[str, Any]) -> str:
    """A compact JWS with the given header and an empty signature part."""

    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part(header)}.{part(claims)}."


def hs256_with_public_key(key: SigningKey, claims: dict[str, Any]) -> str:
    """The classic algorithm confusion: HMAC keyed with the provider's published public key."""
    signing_input = unsigned(claims, {"alg": "HS256", "typ": "JWT", "kid": key.kid})[:-1]
    signature = hmac.new(key.public_pem(), signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + base64.urlsafe_b64encode(signature).rstrip(b"=").decode()


STRANGER = SigningKey.generate("stranger-key")


def forged(provider: Any, case: str) -> Callable[[str], str]:
    """A function of the sign-in's nonce returning the ID token for ``case``."""
    key = provider.key
    now = int(time.time())
    makers: dict[str, Callable[[str], str]] = {
        "wrong-issuer": lambda nonce: key.sign(provider.id_token_claims(nonce, iss="https://idp.evil.test")),
        "wrong-audience": lambda nonce: key.sign(provider.id_token_claims(nonce, aud=OTHER_CLIENT_ID)),
        "audience-list-without-us": lambda nonce: key.sign(
            provider.id_token_claims(nonce, aud=[OTHER_CLIENT_ID, "third"])
        ),
        "azp-of-another-client": lambda nonce: key.sign(
            provider.id_token_claims(nonce, aud=["label-studio", OTHER_CLIENT_ID], azp=OTHER_CLIENT_ID)
        ),
        "wrong-nonce": lambda nonce: key.sign(provider.id_token_claims("n" * 20)),
        "no-nonce": lambda nonce: key.sign(
            {name: value for name, value in provider.id_token_claims(nonce).items() if name != "nonce"}
        ),
        "alg-none": lambda nonce: unsigned(provider.id_token_claims(nonce), {"alg": "none", "kid": key.kid}),
        "hs256-public-key": lambda nonce: hs256_with_public_key(key, provider.id_token_claims(nonce)),
        "expired": lambda nonce: key.sign(provider.id_token_claims(nonce, iat=now - 7200, exp=now - 3600)),
        "issued-in-the-future": lambda nonce: key.sign(
            provider.id_token_claims(nonce, iat=now + 3600, exp=now + 7200)
        ),
        "not-yet-valid": lambda nonce: key.sign(provider.id_token_claims(nonce, nbf=now + 3600)),
        "unknown-kid": lambda nonce: STRANGER.sign(provider.id_token_claims(nonce)),
        "stranger-key-with-our-kid": lambda nonce: SigningKey(key.kid, STRANGER.private).sign(
            provider.id_token_claims(nonce)
        ),
        "no-sub": lambda nonce: key.sign(provider.id_token_claims(nonce, sub=None)),
        "email-verified-false-string": lambda nonce: key.sign(
            provider.id_token_claims(nonce, email_verified="false")
        ),
        "groups-not-a-list": lambda nonce: key.sign(provider.id_token_claims(nonce, groups={"a": 1})),
        "name-not-text": lambda nonce: key.sign(provider.id_token_claims(nonce, given_name=["Erin"])),
        "garbage": lambda nonce: "not-a-jwt",
        "empty": lambda nonce: "",
    }
    return makers[case]


HOSTILE_ID_TOKENS = {
    "wrong-issuer": "wrong-issuer",
    "wrong-audience": "wrong-audience",
    "audience-list-without-us": "wrong-audience",
    "azp-of-another-client": "wrong-audience",
    "wrong-nonce": "nonce-mismatch",
    "no-nonce": "nonce-mismatch",
    "alg-none": "unsupported-algorithm",
    "hs256-public-key": "unsupported-algorithm",
    "expired": "expired",
    "issued-in-the-future": "not-yet-valid",
    "not-yet-valid": "not-yet-valid",
    "unknown-kid": "unknown-key",
    "stranger-key-with-our-kid": "bad-signature",
    "no-sub": "missing-claim",
    "email-verified-false-string": "email-not-verified",
    "groups-not-a-list": "invalid-claim",
    "name-not-text": "invalid-claim",
    "garbage": "malformed-token",
    "empty": "malformed-token",
}


@pytest.mark.parametrize(("case", "reason"), sorted(HOSTILE_ID_TOKENS.items()))
def test_a_hostile_id_token_is_refused_with_nothing_created(
    creating: Any, case: str, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    browser = Client()
    with caplog.at_level(logging.INFO, logger="label_studio_sso.audit"):
        result = sign_in(browser, creating, "erin", id_token=forged(creating, case))

    nothing_happened(browser, result.response, reason, caplog)


def test_a_jwks_whose_key_was_swapped_refuses_the_providers_own_token(
    creating: Any, caplog: pytest.LogCaptureFixture
) -> None:
    creating.serve_jwks({"keys": [SigningKey(creating.key.kid, STRANGER.private).public_jwk()]})
    browser = Client()

    with caplog.at_level(logging.INFO, logger="label_studio_sso.audit"):
        result = sign_in(browser, creating, "erin")

    nothing_happened(browser, result.response, "bad-signature", caplog)


# Key sets the provider's JWKS endpoint could serve: each holds the provider's own signing key
# in a form no verifier may use, or is too large to read (the bound every key set shares).
UNUSABLE_KEY_SETS: dict[str, tuple[Callable[[SigningKey], dict[str, Any]], str]] = {
    "over 256 KiB": (
        lambda key: {"keys": [key.public_jwk()], "padding": "A" * 262_144},
        "provider-unavailable",
    ),
    "the key with its private part": (lambda key: {"keys": [key.private_jwk()]}, "unknown-key"),
    "the key as an encryption key": (
        lambda key: {"keys": [{**key.public_jwk(), "use": "enc"}]},
        "unknown-key",
    ),
    "the key under an HMAC type": (lambda key: {"keys": [{**key.public_jwk(), "kty": "oct"}]}, "unknown-key"),
}


@pytest.mark.parametrize("case", sorted(UNUSABLE_KEY_SETS))
def test_a_key_set_too_large_or_with_unusable_keys_refuses_the_providers_own_token(
    creating: Any, case: str, caplog: pytest.LogCaptureFixture
) -> None:
    key_set, reason = UNUSABLE_KEY_SETS[case]
    creating.serve_jwks(key_set(creating.key))
    browser = Client()

    with caplog.at_level(logging.DEBUG):
        result = sign_in(browser, creating, "erin")

    nothing_happened(browser, result.response, reason, caplog)
    assert creating.key.private_jwk()["d"] not in caplog.text


def test_rotated_keys_are_fetched_once_and_unknown_ones_no_more_often_than_allowed(
    creating: Any, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    from label_studio_sso.oidc.provider import provider_client

    assert sign_in(Client(), creating, "erin").response["Location"] == "/projects/"
    assert provider_client().jwks_fetches == 1
    settings.SSO_JWKS_MIN_REFRESH = 0  # the rotation test must not wait out the interval
    new_key = SigningKey.generate("rotated-key")
    creating.serve_jwks({"keys": [new_key.public_jwk(), creating.key.public_jwk()]})

    rotated = sign_in(
        Client(), creating, "erin", id_token=lambda nonce: new_key.sign(creating.id_token_claims(nonce))
    )
    assert rotated.response["Location"] == "/projects/"
    assert provider_client().jwks_fetches == 2
    again = sign_in(
        Client(), creating, "erin", id_token=lambda nonce: new_key.sign(creating.id_token_claims(nonce))
    )
    assert again.response["Location"] == "/projects/"
    assert provider_client().jwks_fetches == 2  # cached: no fetch for a known kid

    settings.SSO_JWKS_MIN_REFRESH = 600
    with caplog.at_level(logging.INFO, logger="label_studio_sso.audit"):
        for _ in range(3):
            unknown = sign_in(Client(), creating, "erin", id_token=forged(creating, "unknown-kid"))
            assert authorization_parameters(unknown.response["Location"])["sso_error"] == "unknown-key"
    assert provider_client().jwks_fetches == 2  # within SSO_JWKS_MIN_REFRESH: refused from the cache


def test_a_replayed_callback_is_refused_in_the_same_browser_and_with_an_old_cookie(
    creating: Any, caplog: pytest.LogCaptureFixture
) -> None:
    browser = Client()
    authorization_url = begin_sign_in(browser)
    cookies_before = browser.cookies.output()
    callback = callback_path(creating.sign_in(authorization_url, "erin"))
    assert browser.get(callback)["Location"] == "/projects/"
    browser.get("/logout")

    with caplog.at_level(logging.INFO, logger="label_studio_sso.audit"):
        again = browser.get(callback)
        old_cookie = Client()
        old_cookie.cookies.load(cookies_before.replace("Set-Cookie: ", ""))
        replayed = old_cookie.get(callback)

    assert authorization_parameters(again["Location"])["sso_error"] == "state-mismatch"
    assert authorization_parameters(replayed["Location"])["sso_error"] == "replayed"
    assert whoami(browser) is None and whoami(old_cookie) is None


def test_a_callback_carrying_another_browsers_state_is_refused(
    creating: Any, caplog: pytest.LogCaptureFixture
) -> None:
    victim, attacker = Client(), Client()
    attackers_callback = callback_path(creating.sign_in(begin_sign_in(attacker), "erin"))

    with caplog.at_level(logging.INFO, logger="label_studio_sso.audit"):
        response = victim.get(attackers_callback)  # login CSRF: the attacker's code in the victim's browser

    nothing_happened(victim, response, "state-mismatch", caplog)


def test_a_code_issued_to_another_client_is_refused_by_the_exchange(
    creating: Any, caplog: pytest.LogCaptureFixture
) -> None:
    browser = Client()
    ours = authorization_parameters(begin_sign_in(browser))
    discovery = creating.discovery()
    verifier = "v" * 50
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    theirs = requests.Request(
        "GET",
        discovery["authorization_endpoint"],
        params={
            "client_id": OTHER_CLIENT_ID,
            "response_type": "code",
            "scope": "openid email profile",
            "redirect_uri": "http://testserver/sso/oidc/callback/",
            "state": "theirs",
            "nonce": ours["nonce"],
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
    ).prepare()
    their_code = authorization_parameters(creating.sign_in(theirs.url, "erin"))["code"]

    with caplog.at_level(logging.INFO, logger="label_studio_sso.audit"):
        response = browser.get("/sso/oidc/callback/", {"code": their_code, "state": ours["state"]})

    nothing_happened(browser, response, "provider-refused", caplog)


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ({"error": "access_denied", "error_description": "End-User aborted interaction"}, "provider-refused"),
        ({"code": "abc"}, "state-mismatch"),
        ({"code": "abc", "state": "s" * 5000}, "state-mismatch"),
        ({"code": "abc", "state": ""}, "state-mismatch"),
    ],
)
def test_callbacks_without_our_state_or_with_an_error_end_on_the_login_page(
    creating: Any, query: dict[str, str], reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    browser = Client()
    begin_sign_in(browser)

    with caplog.at_level(logging.INFO, logger="label_studio_sso.audit"):
        response = browser.get("/sso/oidc/callback/", query)

    nothing_happened(browser, response, reason, caplog)


def test_a_callback_by_post_or_to_a_site_without_oidc_is_not_served(creating: Any, settings: Any) -> None:
    assert Client().post("/sso/oidc/callback/", {"code": "a", "state": "b"}).status_code == 405
    settings.SSO_OIDC_ISSUER = None
    assert Client().get("/sso/oidc/callback/", {"code": "a", "state": "b"}).status_code == 404


def test_the_provider_down_gives_the_login_page_and_passwords_still_work(
    oidc: Any, settings: Any, make_user: Any, caplog: pytest.LogCaptureFixture
) -> None:
    from tests.support.processes import free_port

    make_user("alice@example.com")
    settings.SSO_OIDC_ISSUER = f"https://localhost:{free_port()}"  # nothing listens there
    browser = Client()

    with caplog.at_level(logging.INFO, logger="label_studio_sso.audit"):
        response = browser.get("/sso/oidc/login/", {"next": "/projects/"})

    assert response.status_code == 302
    assert authorization_parameters(response["Location"])["sso_error"] == "provider-unavailable"
    page = browser.get(response["Location"]).content.decode()
    assert "cannot be reached right now" in page and 'name="password"' in page
    assert "sso login refused: reason=provider-unavailable via=oidc" in caplog.text
    assert whoami(logged_in_browser("alice@example.com", "Member-password-123")) == "alice@example.com"


def test_a_discovery_document_naming_another_issuer_is_refused(oidc: Any, settings: Any) -> None:
    settings.SSO_OIDC_ISSUER = oidc.issuer.replace("localhost", "127.0.0.1")  # the provider says localhost

    response = Client().get("/sso/oidc/login/")

    assert authorization_parameters(response["Location"])["sso_error"] == "provider-unavailable"


def test_the_provider_down_at_the_hourly_reread_keeps_the_last_document_and_asks_once_a_minute(
    oidc: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from label_studio_sso.oidc.provider import DISCOVERY_LIFETIME_SECONDS, provider_client
    from tests.support.processes import free_port

    begin_sign_in(Client())  # the discovery document, read
    client = provider_client()
    client._server_metadata_url = f"https://localhost:{free_port()}/.well-known/openid-configuration"
    client.server_metadata["_loaded_at"] -= DISCOVERY_LIFETIME_SECONDS + 1  # an hour on, the provider down
    asked = []
    session = client._get_session
    monkeypatch.setattr(client, "_get_session", lambda: asked.append(1) or session())

    for _ in range(3):
        assert begin_sign_in(Client()).startswith(oidc.discovery()["authorization_endpoint"])
    assert len(asked) == 1  # the failed re-read is not repeated by every request that follows
