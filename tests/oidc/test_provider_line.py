"""The image's start-up line about the OpenID provider: it answers, it names another issuer, or
it cannot be reached (a warning, never a failure)."""

from __future__ import annotations

from typing import Any

from label_studio_sso.container.environment import main, provider_status
from tests.support.oidc import CLIENT_ID, CLIENT_SECRET
from tests.support.processes import free_port


def test_the_provider_line_says_whether_the_issuer_answers(trusting_the_provider: Any, capsys: Any) -> None:
    oidc_provider = trusting_the_provider

    configured = {"SSO_OIDC_CLIENT_ID": CLIENT_ID, "SSO_OIDC_CLIENT_SECRET": CLIENT_SECRET}
    assert provider_status({}) is None
    assert provider_status({**configured, "SSO_OIDC_ISSUER": oidc_provider.issuer}) == (
        f"OpenID provider: {oidc_provider.issuer} answers"
    )
    other_name = oidc_provider.issuer.replace("localhost", "127.0.0.1")
    assert "names another issuer" in provider_status({**configured, "SSO_OIDC_ISSUER": other_name})
    down = f"https://localhost:{free_port()}"
    assert main(["provider"], {**configured, "SSO_OIDC_ISSUER": down}) == 0  # a warning, never a failure
    assert f"warning: the OpenID provider {down} cannot be reached now" in capsys.readouterr().out
