"""deploy/kubernetes's Deployment, run: two pods from its container spec on one PostgreSQL."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.e2e.support.load_balancer import LoadBalancer
from tests.e2e.support.pods import Pod, PodTemplate, bridge_gateway, docker
from tests.support.kubernetes_manifests import example_secret, mint_as_the_first_user, rendered
from tests.support.postgres import PostgresServer

pytestmark = pytest.mark.e2e

SECRET = example_secret()["stringData"]
# How long the ingress takes to learn that a terminating pod left the Service: Kubernetes
# updates the endpoints while the pod runs its preStop hook, not before.
ENDPOINTS_PROPAGATION_SECONDS = 1


@pytest.fixture(scope="module")
def bridge_postgres() -> Iterator[tuple[PostgresServer, str]]:
    """PostgreSQL reachable from the pods' own network namespaces, with the manifest's
    database and user (the password is the example Secret's)."""
    gateway = bridge_gateway()
    server = PostgresServer(also_listen_on=gateway)
    config = {item.split("=", 1)[0]: item.split("=", 1)[1] for item in _literals()}
    server.execute(f"CREATE ROLE {config['POSTGRE_USER']} LOGIN PASSWORD '{SECRET['postgres-password']}'")
    server.execute(f"CREATE DATABASE {config['POSTGRE_NAME']} OWNER {config['POSTGRE_USER']}")
    yield server, gateway
    server.stop()


def _literals() -> list[str]:
    import yaml

    from tests.support.kubernetes_manifests import BASE

    kustomization = yaml.safe_load((BASE / "kustomization.yaml").read_text())
    return kustomization["configMapGenerator"][0]["literals"]


@pytest.fixture(scope="module")
def template(
    sso_image: str, bridge_postgres: tuple[PostgresServer, str], tmp_path_factory: Any
) -> PodTemplate:
    server, gateway = bridge_postgres
    return PodTemplate(
        sso_image,
        rendered(),
        example_secret(),
        tmp_path_factory.mktemp("pods"),
        POSTGRE_HOST=gateway,
        POSTGRE_PORT=str(server.port),
        SSO_RATE_LIMIT="100000/m",  # the rolling restart's clients mint more than the default 60/m
    )


@pytest.fixture(scope="module")
def pods(template: PodTemplate) -> Iterator[list[Pod]]:
    started = [template.start(f"lsso-pod-{index}") for index in (1, 2)]  # at the same moment
    try:
        for pod in started:
            pod.wait_until_ready()
        yield started
    finally:
        for pod in started:
            pod.remove()


def test_the_container_spec_runs_as_written(pods: list[Pod]) -> None:
    for pod in pods:
        state = json.loads(docker("inspect", pod.name))[0]["HostConfig"]
        assert state["ReadonlyRootfs"] is True
        assert state["CapDrop"] == ["ALL"]
        assert "no-new-privileges" in state["SecurityOpt"]
        assert docker("exec", pod.name, "id", "-u").strip() == "1001"


def test_two_pods_started_together_share_one_database_one_organization_and_tokens(pods: list[Pod]) -> None:
    first, second = pods
    count = "from organizations.models import Organization as O; print('ORGANIZATIONS', O.objects.count())"
    # as `kubectl exec` would, through the entrypoint, which reads the *_FILE secrets
    entrypoint = "/label-studio-sso/entrypoint.sh"
    counted = docker("exec", first.name, entrypoint, "python3", "-m", "django", "shell", "-c", count)
    assert "ORGANIZATIONS 1" in counted
    issued = mint_as_the_first_user(first.url)
    assert issued.status_code == 200, issued.text
    token = issued.json()["token"]
    landed = requests.get(
        f"{second.url}/api/sso/login", params={"token": token}, allow_redirects=False, timeout=30
    )
    assert landed.status_code == 302 and landed.headers["X-Label-Studio-SSO"] == "logged-in"
    replayed = requests.get(
        f"{first.url}/api/sso/login", params={"token": token}, allow_redirects=False, timeout=30
    )
    assert replayed.headers.get("X-Label-Studio-SSO") != "logged-in"


def test_no_secret_from_the_secret_reaches_a_pods_log(pods: list[Pod]) -> None:
    for pod in pods:
        logs = pod.logs()
        assert "Starting gunicorn" in logs
        for value in SECRET.values():
            assert value not in logs


def test_a_pod_stops_within_its_grace_period_after_prestop(template: PodTemplate) -> None:
    pod = template.start("lsso-pod-stopping")
    try:
        pod.wait_until_ready()
        pod.terminate()
        state = json.loads(docker("inspect", pod.name))[0]["State"]
        assert state["ExitCode"] == 0, pod.logs()[-2000:]  # gunicorn stopped on SIGTERM, not killed
    finally:
        pod.remove()


class ClientStream:
    """Clients of the load balancer, until stopped: each keeps one session from the start
    and, in a loop, uses it, mints a token, logs a new browser in with it and uses that.
    Every answer is checked; nothing is retried."""

    def __init__(self, url: str, clients: int = 3) -> None:
        self.url = url
        self.served = 0
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._client, daemon=True) for _ in range(clients)]

    def __enter__(self) -> ClientStream:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=120)

    def _count(self, failure: str | None = None) -> None:
        with self._lock:
            self.served += failure is None
            if failure is not None:
                self.failures.append(failure)

    def _logged_in_browser(self) -> requests.Session | None:
        issued = mint_as_the_first_user(self.url)
        if issued.status_code != 200:
            self._count(f"token: {issued.status_code}")
            return None
        self._count()
        browser = requests.Session()
        login = browser.get(issued.json()["login_url"].replace("https://labelstudio.example.com", self.url),
                            allow_redirects=False, timeout=30)  # fmt: skip
        if login.headers.get("X-Label-Studio-SSO") != "logged-in":
            self._count(f"login: {login.status_code}")
            return None
        self._count()
        return browser

    def _uses(self, browser: requests.Session, what: str) -> None:
        answer = browser.get(f"{self.url}/api/current-user/whoami", timeout=30)
        if answer.status_code == 200 and answer.json().get("email") == "admin@example.com":
            self._count()
        else:
            self._count(f"{what}: {answer.status_code}")

    def _client(self) -> None:
        kept = None
        while kept is None and not self._stop.is_set():
            kept = self._logged_in_browser()
        while not self._stop.is_set():
            try:
                self._uses(kept, "kept session")  # type: ignore[arg-type]
                fresh = self._logged_in_browser()
                if fresh is not None:
                    self._uses(fresh, "new session")
            except requests.RequestException as error:
                self._count(f"{type(error).__name__}")


def test_a_rolling_restart_behind_a_load_balancer_drops_nothing(
    pods: list[Pod], template: PodTemplate, tmp_path: Path
) -> None:
    """As the Deployment's RollingUpdate (maxSurge 1, maxUnavailable 0) replaces pods: a new
    pod starts, becomes ready and joins the endpoints; then an old one leaves them while it
    runs its preStop pause and stops on SIGTERM."""
    endpoints = {pod.name: f"{pod.ip}:8080" for pod in pods}
    balancer = LoadBalancer(tmp_path, list(endpoints.values()))
    replacements: list[Pod] = []
    try:
        with ClientStream(balancer.url) as stream:
            time.sleep(1)  # a poll interval: the clients are under way
            for old in list(pods):
                new = template.start(f"{old.name}-next")
                replacements.append(new)
                new.wait_until_ready()
                endpoints[new.name] = f"{new.ip}:8080"
                balancer.set_endpoints(list(endpoints.values()))
                stopping = threading.Thread(target=old.terminate)
                stopping.start()  # preStop, then SIGTERM; meanwhile the endpoints change
                time.sleep(ENDPOINTS_PROPAGATION_SECONDS)
                del endpoints[old.name]
                balancer.set_endpoints(list(endpoints.values()))
                stopping.join()
            served_during_restart = stream.served
        print(f"rolling restart: {stream.served} requests served, {len(stream.failures)} failed")
        assert stream.failures == []
        assert served_during_restart > 100
    finally:
        balancer.stop()
        for pod in replacements:
            pod.remove()
