"""A whole OpenID Connect flow with every log captured: sign-in, a replayed callback, the
provider's back-channel logout (and its replay) and Label Studio's logout log no secret."""

from __future__ import annotations

import logging
from typing import Any

import jwt
from django.test import Client

from tests.support.leaks import assert_nothing_of, fragments, jwt_fragments


def test_an_openid_sign_in_and_both_logouts_log_no_secret(
    oidc: Any, settings: Any, caplog: Any, capfd: Any
) -> None:
    from label_studio_sso.oidc.views import SESSION_ID_TOKEN_KEY
    from tests.support.oidc import CLIENT_SECRET, authorization_parameters, begin_sign_in, callback_path

    settings.SSO_CREATE_USERS = True
    caplog.set_level(logging.DEBUG)
    browser = Client()
    authorization_url = begin_sign_in(browser)
    verifier = next(
        value["data"]["code_verifier"] for key, value in browser.session.items() if key.startswith("_state_")
    )
    callback = oidc.sign_in(authorization_url, "erin")
    assert browser.get(callback_path(callback))["Location"] == "/projects/"
    id_token = browser.session[SESSION_ID_TOKEN_KEY]
    sid = jwt.decode(id_token, options={"verify_signature": False})["sid"]
    browser.get(callback_path(callback))  # replayed: refused
    logout_token = oidc.key.sign(oidc.logout_token(sub="erin", sid=sid))
    assert Client().post("/sso/oidc/backchannel-logout/", {"logout_token": logout_token}).status_code == 200
    Client().post("/sso/oidc/backchannel-logout/", {"logout_token": logout_token})  # replayed: refused
    browser.get("/logout")

    own_browsing = ("/auth?", "/interaction/", "/session/end")  # this test at the provider, not the server
    captured = "\n".join(
        line
        for line in (caplog.text + "".join(capfd.readouterr())).splitlines()
        if not any(mark in line for mark in own_browsing)
    )
    parameters = authorization_parameters(callback)
    secrets = {
        "client secret": fragments(CLIENT_SECRET),
        "code": {parameters["code"]},
        "state": {parameters["state"]},
        "nonce": {authorization_parameters(authorization_url)["nonce"]},
        "PKCE verifier": fragments(verifier),
        "ID token": jwt_fragments(id_token),
        "logout token": jwt_fragments(logout_token),
    }
    assert_nothing_of(secrets, captured)
    assert "sso login succeeded" in captured and "reason=state-mismatch via=oidc" in captured
    assert "erin@example.com" not in captured
