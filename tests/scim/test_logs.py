"""A whole SCIM provisioning flow with every log captured: users and groups are logged by id,
never by the token, a name or any other value of a payload."""

from __future__ import annotations

import logging
from typing import Any

from django.test import Client

from tests.support.leaks import assert_nothing_of, fragments
from tests.support.scim import GROUP, TOKEN, Scim, okta_user, patch


def test_a_scim_provisioning_flow_logs_ids_and_never_the_token_or_a_payload(
    scim: Scim, settings: Any, caplog: Any, capfd: Any, alice: Any
) -> None:
    settings.SSO_STAFF_GROUPS = "ls-admins"
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="label_studio_sso")
    secret_name, secret_user_name, secret_group = "Zebulon-Quixote", "zq.upn@contoso.example", "Quasar-Admins"

    created = scim.post(
        "Users", {**okta_user("zq@example.com", secret_name, "Xylo"), "userName": secret_user_name}
    )
    user = created.json()["id"]
    scim.get(f'Users?filter=userName eq "{secret_user_name}"')
    scim.patch(f"Users/{user}", patch({"op": "Replace", "path": "active", "value": "False"}))
    group = scim.post(
        "Groups", {"schemas": [GROUP], "displayName": secret_group, "members": [{"value": user}]}
    )
    scim.delete(f"Groups/{group.json()['id']}")
    scim.delete(f"Users/{user}")
    scim.post("Users", okta_user("alice@example.com", secret_name))  # 409
    scim.get(f'Users?filter=userName eq "{secret_name}" or')  # 400
    Scim(Client(REMOTE_ADDR="10.20.0.8"), token=TOKEN[:-1] + "Q").get("Users")  # 401

    captured = caplog.text + "".join(capfd.readouterr())
    assert_nothing_of(
        {
            "token": fragments(TOKEN, 12),
            "wrong token": fragments(TOKEN[:-1] + "Q", 12),
            "names": {secret_name, "Xylo", secret_user_name, secret_group, "zq@example.com"},
            "Okta's password": {"Okta-sends-a-password"},
        },
        captured,
    )
    assert f"sso user created: user_id={user} via=scim" in captured
    assert f"sso user deactivated: user_id={user} via=scim" in captured
    assert "sso scim refused: method=POST resource=Users status=409 scim_type=uniqueness" in captured
    assert "sso scim refused: method=GET resource=Users status=401" in captured
    assert "sso scim group created" in captured and "sso scim group deleted" in captured
