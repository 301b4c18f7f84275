"""A fresh image with no Label Studio user and no organization, configured with only one way in:
the first person through it makes the organization and owns it, as Label Studio's own sign-up
would, and the next person joins that organization.

Once with only OpenID Connect (the real provider, over HTTPS), once with only a gateway (nginx
``auth_request`` in front, and ``SSO_PROXY_REQUIRED`` so nothing reaches Label Studio around it).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from label_studio_sso.provisioning import FIRST_ORGANIZATION_TITLE
from tests.e2e.support.containers import LabelStudio, free_port, whoami
from tests.e2e.support.gateway_proxy import GATEWAY_ADDRESS, GatewayProxy, gateway_in_front, signed_in
from tests.support.gateway import Gateway, running_gateway
from tests.support.oidc import CLIENT_ID, CLIENT_SECRET, Provider, running_provider

pytestmark = pytest.mark.e2e

ORGANIZATIONS = (
    "from organizations.models import Organization\n"
    "print(repr([(o.title, o.created_by.email, sorted(o.users.values_list('email', flat=True)))"
    " for o in Organization.objects.order_by('pk')]))"
)


def organizations(server: LabelStudio) -> list[tuple[str, str, list[str]]]:
    """Every organization: its title, who made it, and its members' emails."""
    return ast.literal_eval(server.exec_python(ORGANIZATIONS).strip().splitlines()[-1])


def assert_empty(server: LabelStudio) -> None:
    """No organization and no user: one shell in the container, not two."""
    counted = "from organizations.models import Organization\nfrom users.models import User\n"
    counted += "print('COUNTS', Organization.objects.count(), User.objects.count())"
    assert "COUNTS 0 0" in server.exec_python(counted)


@pytest.fixture(scope="module")
def only_openid_connect(
    start_label_studio: Any, tmp_path_factory: Any
) -> Iterator[tuple[Provider, LabelStudio]]:
    directory: Path = tmp_path_factory.mktemp("empty-oidc")
    port = free_port()
    with running_provider(
        directory, redirect_uris=[f"http://127.0.0.1:{port}/sso/oidc/callback/"]
    ) as provider:
        server = start_label_studio(
            {
                "SSO_OIDC_ISSUER": provider.issuer,
                "SSO_OIDC_CLIENT_ID": CLIENT_ID,
                "SSO_OIDC_CLIENT_SECRET": CLIENT_SECRET,
                "SSO_CREATE_USERS": "true",
                "REQUESTS_CA_BUNDLE": "/idp/ca.pem",
            },
            port=port,
            volumes={str(directory): "/idp"},
            first_user=False,
        )
        yield provider, server


def signed_in_with_openid_connect(server: LabelStudio, provider: Provider, login: str) -> requests.Session:
    browser = requests.Session()
    browser.trust_env = False
    start = browser.get(f"{server.url}/sso/oidc/login/?next=/projects/", allow_redirects=False, timeout=60)
    assert start.status_code == 302, start.text[:300]
    callback = browser.get(
        provider.sign_in(start.headers["Location"], login), allow_redirects=False, timeout=60
    )
    assert callback.status_code == 302, callback.text[:300]
    assert "sso_error" not in callback.headers["Location"], callback.headers["Location"]
    return browser


def test_the_first_openid_connect_user_of_an_empty_instance_makes_and_owns_its_organization(
    only_openid_connect: tuple[Provider, LabelStudio],
) -> None:
    provider, server = only_openid_connect
    assert_empty(server)

    erin = signed_in_with_openid_connect(server, provider, "erin")

    assert whoami(server, erin) == "erin@example.com"
    assert erin.get(f"{server.url}/api/projects/", timeout=60).status_code == 200
    assert organizations(server) == [(FIRST_ORGANIZATION_TITLE, "erin@example.com", ["erin@example.com"])]

    alice = signed_in_with_openid_connect(server, provider, "alice")

    assert whoami(server, alice) == "alice@example.com"
    assert organizations(server) == [
        (FIRST_ORGANIZATION_TITLE, "erin@example.com", ["alice@example.com", "erin@example.com"])
    ]


@pytest.fixture(scope="module")
def only_a_gateway(
    start_label_studio: Any, tmp_path_factory: Any
) -> Iterator[tuple[LabelStudio, GatewayProxy, Gateway]]:
    directory: Path = tmp_path_factory.mktemp("empty-gateway")
    with running_gateway(directory / "gateway") as gateway:
        server = start_label_studio(
            {
                "SSO_CREATE_USERS": "true",
                "SSO_TRUSTED_PROXIES": f"{GATEWAY_ADDRESS}/32",
                "SSO_PROXY_EMAIL_HEADER": "X-Forwarded-Email",
                "SSO_PROXY_NAME_HEADER": "X-Forwarded-Name",
                "SSO_PROXY_REQUIRED": "true",
            },
            first_user=False,
        )
        with gateway_in_front(directory / "nginx", gateway=gateway.url, upstream_port=server.port) as proxy:
            yield server, proxy, gateway


def test_the_first_gateway_user_of_an_empty_instance_makes_and_owns_its_organization(
    only_a_gateway: tuple[LabelStudio, GatewayProxy, Gateway],
) -> None:
    server, proxy, _gateway = only_a_gateway
    assert_empty(server)

    dana = signed_in(proxy, "dana")

    assert dana.get(f"{proxy.url}/api/current-user/whoami", timeout=60).json()["email"] == "dana@example.com"
    assert dana.get(f"{proxy.url}/api/projects/", timeout=60).status_code == 200
    assert organizations(server) == [(FIRST_ORGANIZATION_TITLE, "dana@example.com", ["dana@example.com"])]

    bob = signed_in(proxy, "bob")

    assert bob.get(f"{proxy.url}/api/current-user/whoami", timeout=60).json()["email"] == "bob@example.com"
    assert organizations(server) == [
        (FIRST_ORGANIZATION_TITLE, "dana@example.com", ["bob@example.com", "dana@example.com"])
    ]


def test_with_the_gateway_required_only_health_answers_around_it(
    only_a_gateway: tuple[LabelStudio, GatewayProxy, Gateway],
) -> None:
    server, proxy, _gateway = only_a_gateway
    through_the_gateway = signed_in(proxy, "dana")
    direct = requests.Session()
    direct.trust_env = False
    direct.cookies.update(through_the_gateway.cookies)  # dana's own session, taken around the gateway

    around = direct.get(
        f"{server.url}/api/current-user/whoami", headers={"X-Forwarded-Email": "dana@example.com"}, timeout=60
    )

    assert around.status_code == 403 and around.json()["error_code"] == "GATEWAY_REQUIRED", around.text
    assert direct.get(f"{server.url}/health", timeout=60).status_code == 200
    assert "(not through the gateway; SSO_PROXY_REQUIRED)" in server.logs()
