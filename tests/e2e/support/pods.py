"""Pods of deploy/kubernetes run with Docker: the Deployment's container spec as written.

Kubernetes cannot run here (ENVIRONMENT.md), so a pod is one container started from the
rendered manifest: its args, environment (the ConfigMap, then ``env``), user and group,
read-only root, dropped capabilities, no privilege escalation, memory limit, the Secret
as files and every emptyDir as a tmpfs, in a network namespace of its own (the Docker
bridge) with its own address, like a pod's. Only two values are replaced: the image (the
one under test) and where PostgreSQL is, which the manifest leaves to the user.
Stopping runs the preStop command, then SIGTERM, then SIGKILL after the grace period.
"""

from __future__ import annotations

import ipaddress
import json
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from tests.support.kubernetes_manifests import one
from tests.support.processes import free_port

MEBI = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30}


def docker(*args: str, check: bool = True, timeout: float = 120) -> str:
    return subprocess.run(
        ["docker", *args], capture_output=True, text=True, check=check, timeout=timeout
    ).stdout


def bridge_gateway() -> str:
    """The host's address on Docker's default bridge: where a pod reaches the host.

    Some engines list only the bridge's subnet; its gateway is then the subnet's first address,
    as Docker assigns it."""
    config = json.loads(docker("network", "inspect", "bridge"))[0]["IPAM"]["Config"][0]
    if config.get("Gateway"):
        return str(config["Gateway"])
    return str(next(ipaddress.ip_network(config["Subnet"]).hosts()))


def memory_bytes(quantity: str) -> int:
    number, unit = re.fullmatch(r"(\d+)(Ki|Mi|Gi)?", quantity).groups()  # type: ignore[union-attr]
    return int(number) * MEBI.get(unit or "", 1)


@dataclass
class Pod:
    name: str
    host_port: int
    spec: dict[str, Any]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.host_port}"

    @property
    def ip(self) -> str:
        return json.loads(docker("inspect", self.name))[0]["NetworkSettings"]["IPAddress"]

    def probe(self, kind: str) -> bool:
        path = self.spec["containers"][0][kind]["httpGet"]["path"]
        try:
            return requests.get(f"{self.url}{path}", timeout=3).status_code == 200
        except requests.RequestException:
            return False

    def wait_until_ready(self) -> None:
        """As the kubelet would: the startup probe, then the readiness probe until it succeeds
        (a pod joins the endpoints at its first successful readiness probe, not before), both
        within the startup probe's whole budget."""
        startup = self.spec["containers"][0]["startupProbe"]
        deadline = time.monotonic() + startup["periodSeconds"] * startup["failureThreshold"]
        for kind in ("startupProbe", "readinessProbe"):
            while not self.probe(kind):
                if not self.running() or time.monotonic() > deadline:
                    raise AssertionError(f"{self.name} never became ready:\n{self.logs()[-4000:]}")
                time.sleep(1)

    def running(self) -> bool:
        return docker("inspect", "-f", "{{.State.Running}}", self.name, check=False).strip() == "true"

    def logs(self) -> str:
        done = subprocess.run(["docker", "logs", self.name], capture_output=True, text=True)
        return done.stdout + done.stderr

    def terminate(self) -> None:
        """preStop, then SIGTERM; SIGKILL once terminationGracePeriodSeconds have passed."""
        grace = self.spec["terminationGracePeriodSeconds"]
        started = time.monotonic()
        pre_stop = self.spec["containers"][0].get("lifecycle", {}).get("preStop")
        if pre_stop:
            docker("exec", self.name, *pre_stop["exec"]["command"])
        remaining = max(1, int(grace - (time.monotonic() - started)))
        docker("stop", "-t", str(remaining), self.name, timeout=grace + 30)

    def remove(self) -> None:
        docker("rm", "-f", self.name, check=False)


class PodTemplate:
    """The Deployment's pod template, ready to start pods from."""

    def __init__(
        self, image: str, manifests: list[dict[str, Any]], secret: dict[str, Any], workdir: Path, **where: str
    ) -> None:
        self.image = image
        self.spec = one(manifests, "Deployment")["spec"]["template"]["spec"]
        self.container = self.spec["containers"][0]
        config = one(manifests, "ConfigMap")["data"]
        assert [source["configMapRef"]["name"] for source in self.container["envFrom"]] == [
            one(manifests, "ConfigMap")["metadata"]["name"]
        ]
        self.env = {**config, **{item["name"]: item["value"] for item in self.container["env"]}, **where}
        self.mounts = self._volumes(secret, workdir)

    def _volumes(self, secret: dict[str, Any], workdir: Path) -> list[str]:
        volumes = {volume["name"]: volume for volume in self.spec["volumes"]}
        arguments = []
        for mount in self.container["volumeMounts"]:
            volume = volumes[mount["name"]]
            if "secret" in volume:
                assert volume["secret"]["secretName"] == secret["metadata"]["name"]
                directory = workdir / f"secret-{mount['name']}"
                directory.mkdir(exist_ok=True)
                for key, value in secret["stringData"].items():
                    (directory / key).write_text(value)
                    (directory / key).chmod(volume["secret"]["defaultMode"])
                arguments += ["-v", f"{directory}:{mount['mountPath']}:ro"]
            elif "emptyDir" in volume:
                size = volume["emptyDir"].get("sizeLimit")
                options = "mode=1777" + (f",size={memory_bytes(size)}" if size else "")
                arguments += ["--tmpfs", f"{mount['mountPath']}:{options}"]
            else:
                raise AssertionError(f"no Docker equivalent written for volume {volume}")
        return arguments

    def run_arguments(self, name: str, host_port: int) -> list[str]:
        pod_security, security = self.spec["securityContext"], self.container["securityContext"]
        arguments = [
            "run",
            "-d",
            "--name",
            name,
            "--user",
            f"{pod_security['runAsUser']}:{pod_security['runAsGroup']}",
        ]
        if security.get("readOnlyRootFilesystem"):
            arguments.append("--read-only")
        if security.get("allowPrivilegeEscalation") is False:
            arguments += ["--security-opt", "no-new-privileges"]
        for capability in security.get("capabilities", {}).get("drop", []):
            arguments += ["--cap-drop", capability]
        if "memory" in self.container["resources"].get("limits", {}):
            arguments += ["--memory", str(memory_bytes(self.container["resources"]["limits"]["memory"]))]
        for variable, value in self.env.items():
            arguments += ["-e", f"{variable}={value}"]
        port = self.container["ports"][0]["containerPort"]
        arguments += ["-p", f"127.0.0.1:{host_port}:{port}", *self.mounts]
        if "command" in self.container:
            arguments += ["--entrypoint", self.container["command"][0]]
        return [
            *arguments,
            self.image,
            *self.container.get("command", [])[1:],
            *self.container.get("args", []),
        ]

    def start(self, name: str) -> Pod:
        docker("rm", "-f", name, check=False)
        host_port = free_port()
        docker(*self.run_arguments(name, host_port))
        return Pod(name, host_port, self.spec)
