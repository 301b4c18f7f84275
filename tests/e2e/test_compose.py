"""compose.yaml: both profiles are valid, and the default service really serves SSO."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import yaml

from tests.support.processes import free_port, wait_for_health
from tests.support.repository import REPO

pytestmark = pytest.mark.e2e


def compose_command() -> list[str]:
    if subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    pytest.fail(
        "neither 'docker compose' nor 'docker-compose' is installed (.ci/run installs docker-compose)"
    )


def compose(
    *args: str, env: dict[str, str] | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*compose_command(), "-f", str(REPO / "compose.yaml"), *args],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        check=check,
        timeout=600,
    )


def rendered(*profile: str) -> dict[str, Any]:
    return yaml.safe_load(compose(*profile, "config").stdout)


def test_the_default_profile_is_label_studio_on_sqlite_published_on_loopback() -> None:
    services = rendered()["services"]
    default = {name for name, service in services.items() if not service.get("profiles")}
    assert default == {"label-studio", "portal"}
    service = services["label-studio"]
    assert service["build"]["args"]["LABEL_STUDIO_IMAGE"] == "heartexlabs/label-studio:1.23.2"
    assert str(service["ports"][0]).startswith("127.0.0.1:") or service["ports"][0]["host_ip"] == "127.0.0.1"
    assert "DJANGO_DB" not in service["environment"]


def test_the_base_image_build_argument_passes_through() -> None:
    config = yaml.safe_load(
        compose("config", env={"LABEL_STUDIO_IMAGE": "label-studio-sso/label-studio-offline:1.23.2"}).stdout
    )
    assert config["services"]["label-studio"]["build"]["args"]["LABEL_STUDIO_IMAGE"].endswith(
        "offline:1.23.2"
    )


def test_the_postgres_profile_runs_two_replicas_on_one_database() -> None:
    services = rendered("--profile", "postgres")["services"]
    profiled = {name for name, service in services.items() if service.get("profiles") == ["postgres"]}
    assert profiled == {"postgres", "replica-1", "replica-2"}
    for name in ("replica-1", "replica-2"):
        environment = services[name]["environment"]
        assert (environment["DJANGO_DB"], environment["POSTGRE_HOST"]) == ("default", "postgres")
        assert "SECRET_KEY" in environment


def own_gateway_network(third_octet: int) -> dict[str, str]:
    """A subnet for the gateway network no other project of this run uses at the same time."""
    return {"GATEWAY_SUBNET": f"172.30.{third_octet}.0/24", "GATEWAY_ADDRESS": f"172.30.{third_octet}.10"}


@pytest.fixture
def compose_project(sso_image: str) -> Iterator[tuple[str, dict[str, str]]]:
    project = f"lsso-test-{os.getpid()}"
    portal_port = free_port()
    env = {
        "LSSO_IMAGE": sso_image,
        "PORT": str(free_port()),
        "PORTAL_PORT": str(portal_port),
        "SSO_FRAME_ANCESTORS": f"http://localhost:{portal_port}",
        **own_gateway_network(72),  # compose v1 makes the gateway network for every project
    }
    yield project, env
    compose("-p", project, "down", "-v", env=env, check=False)


def test_compose_up_serves_the_portal_and_label_studio_with_sso(
    compose_project: tuple[str, dict[str, str]],
) -> None:
    project, env = compose_project
    compose("-p", project, "up", "-d", "--no-build", "label-studio", "portal", env=env)
    url = f"http://127.0.0.1:{env['PORT']}"

    def not_restarting() -> bool:  # a bad configuration makes compose restart it, over and over
        container = compose("-p", project, "ps", "-q", "label-studio", env=env).stdout.strip()
        inspect = ["docker", "inspect", "-f", "{{.RestartCount}}", container]
        return not container or subprocess.run(inspect, capture_output=True, text=True).stdout.strip() == "0"

    logs = lambda: compose("-p", project, "logs", env=env, check=False).stdout  # noqa: E731
    wait_for_health(url, 300, not_restarting, logs)
    response = requests.post(
        f"{url}/api/sso/token",
        json={"email": "admin@example.com"},
        headers={"Authorization": "Token demo0admin0token0change0me0for0real0use"},
        timeout=30,
    )
    assert response.status_code == 200, compose("-p", project, "logs", env=env, check=False).stdout[-3000:]
    assert response.json()["login_url"].startswith(f"http://localhost:{env['PORT']}/api/sso/login?token=")
    portal = requests.Session()
    signed_in = portal.post(
        f"http://127.0.0.1:{env['PORTAL_PORT']}/signin", data={"email": "alice@example.com"}, timeout=30
    )
    assert "iframe" in signed_in.text
    launch = portal.get(
        f"http://127.0.0.1:{env['PORTAL_PORT']}/launch?via=url", allow_redirects=False, timeout=30
    )
    assert launch.headers["Location"].startswith(f"http://localhost:{env['PORT']}/api/sso/login?token=")
    assert "next=%2Fprojects%2F1%2Fdata" in launch.headers["Location"]


def test_the_oidc_profile_adds_label_studio_and_its_demo_provider() -> None:
    services = rendered("--profile", "oidc")["services"]
    profiled = {name for name, service in services.items() if service.get("profiles") == ["oidc"]}
    assert profiled == {"label-studio-oidc", "idp"}
    environment = services["label-studio-oidc"]["environment"]
    assert environment["SSO_OIDC_ISSUER"] == "http://idp.localhost:9000"
    assert services["idp"]["networks"]["default"]["aliases"] == ["idp.localhost"]


def built_image(script: str, tag: str) -> str:
    """The tag a ``docker/*/build-image`` script built (offline where it must)."""
    built = subprocess.run([str(REPO / "docker" / script), tag], capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr[-3000:]
    return built.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def idp_image() -> str:
    return built_image("idp/build-image", "label-studio-sso-idp:test")


def test_the_oidc_profile_signs_in_at_its_demo_provider(
    sso_image: str, idp_image: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import urllib3.util.connection

    from tests.support.oidc import sign_in_at_provider

    project = f"lsso-oidc-{os.getpid()}"
    env = {
        "LSSO_IMAGE": sso_image,
        "LSSO_IDP_IMAGE": idp_image,
        "OIDC_PORT": str(free_port()),
        **own_gateway_network(73),
        "IDP_PORT": str(free_port()),
    }
    # What the browser does for *.localhost: this machine.
    connect = urllib3.util.connection.create_connection
    monkeypatch.setattr(
        urllib3.util.connection,
        "create_connection",
        lambda address, *args, **kwargs: connect(
            ("127.0.0.1" if address[0].endswith(".localhost") else address[0], address[1]), *args, **kwargs
        ),
    )
    try:
        compose(
            "-p", project, "--profile", "oidc", "up", "-d", "--no-build", "label-studio-oidc", "idp", env=env
        )
        url = f"http://localhost:{env['OIDC_PORT']}"
        logs = lambda: compose("-p", project, "logs", env=env, check=False).stdout  # noqa: E731
        wait_for_health(url, 300, output=logs)
        assert "Sign in with Demo IdP" in requests.get(f"{url}/user/login/", timeout=30).text
        issuer = f"http://idp.localhost:{env['IDP_PORT']}"
        browser = requests.Session()
        start = browser.get(f"{url}/sso/oidc/login/?next=/projects/", allow_redirects=False, timeout=30)
        callback = sign_in_at_provider(
            issuer, start.headers["Location"], "erin", "demo-idp-password", browser
        )
        landed = browser.get(callback, allow_redirects=False, timeout=30)
        assert landed.headers["Location"] == "/projects/", logs()[-3000:]
        me = browser.get(f"{url}/api/current-user/whoami", timeout=30).json()
        assert (me["email"], me["first_name"]) == ("erin@example.com", "Erin")
    finally:
        compose("-p", project, "--profile", "oidc", "down", "-v", env=env, check=False)


def test_the_gateway_profile_publishes_only_the_gateway_and_trusts_only_its_address() -> None:
    services = rendered("--profile", "gateway")["services"]
    profiled = {name for name, service in services.items() if service.get("profiles") == ["gateway"]}
    assert profiled == {"gateway", "gateway-check", "label-studio-gateway"}
    gateway_address = services["gateway"]["networks"]["gateway"]["ipv4_address"]
    environment = services["label-studio-gateway"]["environment"]
    assert environment["SSO_TRUSTED_PROXIES"] == f"{gateway_address}/32"
    assert "ports" not in services["label-studio-gateway"]  # the gateway is the only way in
    assert "ports" not in services["gateway-check"]


@pytest.fixture(scope="module")
def gateway_image() -> str:
    return built_image("gateway/build-image", "label-studio-sso-gateway:test")


def test_the_gateway_profile_signs_people_in_through_nginx(
    sso_image: str, idp_image: str, gateway_image: str
) -> None:
    project = f"lsso-gateway-{os.getpid()}"
    env = {
        "LSSO_IMAGE": sso_image,
        "LSSO_IDP_IMAGE": idp_image,
        "LSSO_GATEWAY_IMAGE": gateway_image,
        "GATEWAY_PORT": str(free_port()),
        **own_gateway_network(71),
    }
    url = f"http://127.0.0.1:{env['GATEWAY_PORT']}"
    logs = lambda: compose("-p", project, "logs", env=env, check=False).stdout  # noqa: E731
    try:
        compose("-p", project, "--profile", "gateway", "up", "-d", "--no-build", "gateway", env=env)
        anonymous = requests.Session()
        deadline = time.monotonic() + 300
        while True:  # nginx answers at once; Label Studio behind it after its first migration
            first = anonymous.get(f"{url}/health", allow_redirects=False, timeout=30)
            if first.status_code == 302 or time.monotonic() > deadline:
                break
            time.sleep(1)
        assert first.headers.get("Location") == "/gateway/", logs()[-3000:]  # sign in at the gateway first
        browser = requests.Session()
        browser.get(f"{url}/gateway/sign-in", params={"user": "bob"}, allow_redirects=False, timeout=30)
        for _ in range(300):
            me = browser.get(f"{url}/api/current-user/whoami", timeout=30)
            if me.status_code == 200:
                break
            time.sleep(1)
        assert me.status_code == 200, logs()[-3000:]
        assert (me.json()["email"], me.json()["first_name"], me.json()["last_name"]) == (
            "bob@example.com",
            "Bob",
            "Gateway",
        )
    finally:
        compose("-p", project, "--profile", "gateway", "down", "-v", env=env, check=False)
