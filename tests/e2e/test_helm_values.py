"""deploy/helm's values for the official Label Studio chart, run in the chart's pod shape.

Helm cannot run here (no helm binary, no chart repository reachable), so the chart's pod
is transcribed from its app-deployment template: an init container run with
`label-studio-migrate`, then `app` (app.args) and `nginx` (app.nginx.args) sharing one
network, the Service and the nginx probes on port 8085; every container gets the
chart's common environment (DJANGO_DB, POSTGRE_* from global.pgConfig,
global.extraEnvironmentVars, global.extraEnvironmentSecrets as variables), the init
container INIT_CONTAINER=true, `app` SKIP_DB_MIGRATIONS=true, `nginx` APP_HOST=localhost;
uid 1001 without privilege escalation (the chart's default security context). The values
file is read for everything it sets; only the image and where PostgreSQL is are replaced.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import yaml

from tests.e2e.support.pods import bridge_gateway, docker
from tests.support.kubernetes_manifests import example_secret, mint_as_the_first_user
from tests.support.postgres import PostgresServer
from tests.support.processes import free_port
from tests.support.repository import REPO

pytestmark = pytest.mark.e2e

VALUES = yaml.safe_load((REPO / "deploy" / "helm" / "label-studio-values.yaml").read_text())
SECRET = example_secret()
CHART_SERVICE_PORT = 8085  # the chart's nginx containerPort, where its Service sends traffic


def common_environment(values: dict[str, Any], postgres_host: str, postgres_port: int) -> dict[str, str]:
    """The chart's `ls.common.envs` for these values, secrets resolved from the example Secret."""
    pg = values["global"]["pgConfig"]
    assert pg["password"]["secretName"] == SECRET["metadata"]["name"]
    env = {
        "DJANGO_DB": "default",
        "POSTGRE_NAME": pg["dbName"],
        "POSTGRE_HOST": postgres_host,  # the reference, replaced
        "POSTGRE_PORT": str(postgres_port),
        "POSTGRE_USER": pg["userName"],
        "POSTGRE_PASSWORD": SECRET["stringData"][pg["password"]["secretKey"]],
        "PYTHONUNBUFFERED": "1",
        **{name: str(value) for name, value in values["global"]["extraEnvironmentVars"].items()},
    }
    for name, reference in values["global"]["extraEnvironmentSecrets"].items():
        assert reference["secretName"] == SECRET["metadata"]["name"]
        env[name] = SECRET["stringData"][reference["secretKey"]]
    return env


@pytest.fixture(scope="module")
def chart_pod(sso_image: str, tmp_path_factory: Any) -> Iterator[dict[str, Any]]:
    gateway = bridge_gateway()
    postgres = PostgresServer(also_listen_on=gateway)
    pg = VALUES["global"]["pgConfig"]
    postgres.execute(
        f"CREATE ROLE {pg['userName']} LOGIN PASSWORD '{SECRET['stringData']['postgres-password']}'"
    )
    postgres.execute(f"CREATE DATABASE {pg['dbName']} OWNER {pg['userName']}")
    env = common_environment(VALUES, gateway, postgres.port)
    host_port = free_port()
    security = ["--user", "1001", "--security-opt", "no-new-privileges"]
    volumes = ["--tmpfs", "/tmp:mode=1777", "--tmpfs", "/label-studio/data:mode=1777",
               "--tmpfs", "/opt/heartex/instance-data/etc:mode=1777"]  # fmt: skip

    def variables(extra: dict[str, str]) -> list[str]:
        return [
            argument for name, value in {**env, **extra}.items() for argument in ("-e", f"{name}={value}")
        ]

    names = {"app": f"lsso-chart-app-{host_port}", "nginx": f"lsso-chart-nginx-{host_port}"}
    try:
        init = docker("run", "--rm", *security, *volumes, *variables({"INIT_CONTAINER": "true"}), sso_image,
                      "label-studio-migrate", timeout=600)  # fmt: skip
        published = f"127.0.0.1:{host_port}:{CHART_SERVICE_PORT}"
        app_env, nginx_env = variables({"SKIP_DB_MIGRATIONS": "true"}), variables({"APP_HOST": "localhost"})
        docker("run", "-d", "--name", names["app"], "-p", published, *security, *volumes, *app_env,
               sso_image, *VALUES["app"]["args"])  # fmt: skip
        docker("run", "-d", "--name", names["nginx"], "--network", f"container:{names['app']}", *security,
               *volumes, *nginx_env, sso_image, *VALUES["app"]["nginx"]["args"])  # fmt: skip
        yield {"init": init, "url": f"http://127.0.0.1:{host_port}", "names": names, "postgres": postgres}
    finally:
        for name in names.values():
            docker("rm", "-f", name, check=False)
        postgres.stop()


def probe_path(kind: dict[str, Any]) -> str:
    return kind["httpGet"]["path"]


def test_the_init_container_migrates_and_makes_the_first_user(chart_pod: dict[str, Any]) -> None:
    assert "migrated PostgreSQL under advisory lock" in chart_pod["init"]
    assert "ensuring Label Studio user admin@example.com exists" in chart_pod["init"]
    assert "Starting gunicorn" not in chart_pod["init"]


def test_the_pods_probes_and_service_port_are_answered_by_the_app_container(
    chart_pod: dict[str, Any],
) -> None:
    deadline = time.monotonic() + 2 * VALUES["app"]["startupProbe"]["failureThreshold"]
    for probe in (
        VALUES["app"]["startupProbe"],
        VALUES["app"]["readinessProbe"],
        VALUES["app"]["nginx"]["readinessProbe"],
    ):
        assert probe["httpGet"]["port"] == CHART_SERVICE_PORT
        while True:
            try:
                if requests.get(f"{chart_pod['url']}{probe_path(probe)}", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, docker("logs", chart_pod["names"]["app"], check=False)
            time.sleep(1)
    issued = mint_as_the_first_user(chart_pod["url"])
    assert issued.status_code == 200, issued.text


def test_both_containers_stop_on_sigterm_with_exit_0(chart_pod: dict[str, Any]) -> None:
    for role in ("nginx", "app"):
        name = chart_pod["names"][role]
        started = time.monotonic()
        docker("stop", "-t", str(VALUES["app"]["terminationGracePeriodSeconds"]), name, timeout=120)
        state = json.loads(docker("inspect", name))[0]["State"]
        assert state["ExitCode"] == 0, (role, docker("logs", name, check=False)[-2000:])
        assert time.monotonic() - started < 35, role  # not killed at the end of the grace period
