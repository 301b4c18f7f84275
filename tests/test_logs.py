"""Whole flows with every log captured: audit events appear, secrets never do."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest
from django.contrib.auth import authenticate
from django.test import Client

from label_studio_sso.portal.keys import signing_key
from label_studio_sso.redaction import REDACTED, RedactTokensFilter, redact
from tests.support.label_studio import TEST_SECRET_KEY, csrf_post, legacy_token_of, personal_access_tokens
from tests.support.leaks import assert_nothing_of, fragments, jwt_fragments


def test_whole_flows_log_audit_events_and_never_a_secret(
    caplog: Any, capfd: Any, api: Any, organization_owner: Any, owner_token: str, alice: Any, bob: Any
) -> None:
    caplog.set_level(logging.DEBUG)
    refresh, access = personal_access_tokens(organization_owner)
    tokens = []

    def issue(email: str, auth: str, **body: Any) -> str:
        response = api({"email": email, **body}, auth=auth)
        assert response.status_code == 200
        tokens.append(response.json()["token"])
        return tokens[-1]

    browser = Client()
    browser.cookies["ls_auth_token"] = issue("alice@example.com", f"Token {owner_token}")
    browser.get("/api/current-user/whoami")
    url_token = issue("bob@example.com", f"Bearer {access}")
    browser.get(f"/projects/?token={url_token}")  # a switch from elsewhere: held for confirmation
    browser.get("/api/sso/confirm?next=/projects/")
    csrf_post(
        browser, "/api/sso/confirm?next=/projects/", {"choice": "switch"}, HTTP_ORIGIN="http://testserver"
    )
    Client().get(f"/projects/?token={url_token}")  # replay
    browser.get(f"/projects/?token={url_token}", HTTP_SEC_FETCH_SITE="same-site")  # bob replays his own: kept
    login_token = issue("alice@example.com", f"Token {owner_token}", next="/projects/")
    Client().get(f"/api/sso/login?token={login_token}&next=/projects/")
    Client().get(f"/api/sso/login?token={login_token}")  # replay
    Client().get(f"/api/sso/login?token={login_token[:-3]}")  # tampered
    api({"email": "alice@example.com"}, auth=f"Token {legacy_token_of(alice)}")  # non-staff
    api({"email": "alice@example.com"}, auth="Bearer " + login_token)  # login token as API credential
    api(raw=b"{broken", auth=f"Token {owner_token}")
    backend_token = issue("alice@example.com", f"Token {owner_token}")
    assert authenticate(None, sso_token=backend_token) == alice
    assert authenticate(None, sso_token=backend_token) is None  # replay
    refused_write = browser.patch(
        "/api/current-user", "{}", content_type="application/json", HTTP_ORIGIN="https://evil.example"
    )
    assert refused_write.status_code == 403
    logout = Client().post(  # the portal signs bob out everywhere; the browser comes back anonymous
        "/api/sso/logout", '{"email": "bob@example.com"}', content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {owner_token}",
    )  # fmt: skip
    assert logout.status_code == 200
    browser.get("/api/current-user/whoami")
    Client().post(
        "/api/sso/logout", '{"email": "nobody@example.com"}', content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {owner_token}",
    )  # fmt: skip

    captured = caplog.text + "".join(capfd.readouterr())
    secrets = {
        "login token": set().union(*(jwt_fragments(token) for token in tokens)),
        "personal access token": jwt_fragments(refresh) | jwt_fragments(access),
        "legacy API token": {owner_token, legacy_token_of(alice)},
        "signing key": {signing_key().secret.hex(), signing_key().secret.decode("latin-1")},
        "SECRET_KEY": fragments(TEST_SECRET_KEY),
    }
    assert_nothing_of(secrets, captured)
    audit = "\n".join(r.getMessage() for r in caplog.records if r.name == "label_studio_sso.audit")
    assert audit.count("sso token issued") == 4
    assert audit.count("sso login succeeded") == 4
    assert f"sso login succeeded: user_id={alice.pk}" in audit and "via=backend" in audit
    assert f"reason=replayed via=backend user_id={alice.pk}" in audit
    assert audit.count("sso token refused") == 3
    assert f"sso token refused: issuer_id={alice.pk} error_code=PERMISSION_DENIED status=403" in audit
    assert "error_code=NOT_AUTHENTICATED status=401" in audit
    assert "error_code=INVALID_JSON status=400" in audit
    assert "sso refused a cross-origin write: PATCH /api/current-user origin=https://evil.example" in audit
    # Each event is written once, to the audit log: no module logger repeats it.
    repeated = [
        r.getMessage()
        for r in caplog.records
        if r.name.startswith("label_studio_sso.") and r.name != "label_studio_sso.audit"
    ]
    assert repeated == []
    assert f"reason=replayed via=url user_id={bob.pk}" in audit
    assert f"sso login awaits confirmation: user_id={bob.pk}" in audit
    assert f"sso login succeeded: user_id={bob.pk}" in audit and "via=confirmation" in audit
    assert "reason=bad-signature" in audit
    assert f"sso sessions ended: user_id={bob.pk} cause=logout-api issuer_id={organization_owner.pk}" in audit
    assert f"sso refused an ended session: user_id={bob.pk}" in audit
    assert "sso logout refused: issuer_id" in audit and "error_code=USER_NOT_FOUND status=422" in audit
    assert "nobody@example.com" not in captured and "bob@example.com" not in audit


def test_redact_removes_jwts_and_token_parameters() -> None:
    line = '"GET /projects/?tab=1&token=abc.def.ghi HTTP/1.1" 302 eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl'
    cleaned = redact(line)
    assert "abc.def.ghi" not in cleaned
    assert "eyJzdWIiOi" not in cleaned
    assert cleaned.startswith(f'"GET /projects/?tab=1&token={REDACTED} HTTP/1.1" 302 ')
    callback = '"GET /sso/oidc/callback/?code=c0d3-value&state=st4te-value&iss=x HTTP/1.1" 302'
    expected = f'"GET /sso/oidc/callback/?code={REDACTED}&state={REDACTED}&iss=x HTTP/1.1" 302'
    assert redact(callback) == expected


def test_gateway_and_portal_signed_logins_log_no_assertion_token_or_identity(
    signer: Any, settings: Any, caplog: Any, capfd: Any, alice: Any
) -> None:
    from tests.support.gateway import ASSERTION_AUDIENCE, ASSERTION_ISSUER, PORTAL_AUDIENCE, PORTAL_ISSUER

    settings.SSO_TRUSTED_PROXIES = "10.0.0.0/24"
    settings.SSO_PROXY_JWT_HEADER = "X-Goog-Iap-Jwt-Assertion"
    settings.SSO_PROXY_JWKS_URL = settings.SSO_ISSUER_JWKS_URL = signer.jwks_url
    settings.SSO_PROXY_JWT_AUDIENCE, settings.SSO_PROXY_JWT_ISSUER = ASSERTION_AUDIENCE, ASSERTION_ISSUER
    settings.SSO_ISSUER, settings.SSO_ISSUER_AUDIENCE = PORTAL_ISSUER, PORTAL_AUDIENCE
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="label_studio_sso")  # our DEBUG lines too
    assertion = signer.sign(signer.assertion_claims())
    expired = signer.sign(signer.assertion_claims(exp=int(time.time()) - 100))
    portal_token = signer.sign(signer.portal_claims())

    gateway = Client(REMOTE_ADDR="10.0.0.5")
    assert gateway.get("/projects/", headers={"X-Goog-Iap-Jwt-Assertion": assertion}).status_code == 200
    gateway.get("/projects/", headers={"X-Goog-Iap-Jwt-Assertion": expired})  # refused: 401
    Client(REMOTE_ADDR="203.0.113.9").get("/", headers={"X-Goog-Iap-Jwt-Assertion": assertion})  # ignored
    browser = Client()
    assert browser.get(f"/projects/?token={portal_token}")["X-Label-Studio-SSO"] == "logged-in"
    Client().get(f"/projects/?token={portal_token}")  # replayed: refused

    captured = caplog.text + "".join(capfd.readouterr())
    secrets = {
        "assertion": jwt_fragments(assertion),
        "expired assertion": jwt_fragments(expired),
        "portal token": jwt_fragments(portal_token),
    }
    assert_nothing_of(secrets, captured)
    assert "via=gateway" in captured and "reason=expired via=gateway" in captured
    assert "sso gateway headers ignored" in captured and "reason=replayed via=url" in captured
    ours = [record.getMessage() for record in caplog.records if record.name.startswith("label_studio_sso")]
    assert ours and not [
        line for line in ours if "alice@example.com" in line
    ]  # (Label Studio's DEBUG lines name users)


@pytest.mark.parametrize(
    ("msg", "args", "kept_msg", "kept_args"),
    [
        ("request %s", ("/x?ls_auth_token=secretvalue",), f"request /x?ls_auth_token={REDACTED}", None),
        ("request %s", ("/x?page=2",), "request %s", ("/x?page=2",)),  # nothing to remove: untouched
        ("broken %s %s", ("one",), "broken %s %s", ("one",)),  # malformed: left for logging to report
    ],
)
def test_the_filter_rewrites_only_records_with_a_token_and_drops_none(
    msg: str, args: tuple[str, ...], kept_msg: str, kept_args: tuple[str, ...] | None
) -> None:
    record = logging.LogRecord("django.server", logging.INFO, __file__, 1, msg, args, None)
    assert RedactTokensFilter().filter(record) is True
    assert (record.msg, record.args) == (kept_msg, kept_args)
