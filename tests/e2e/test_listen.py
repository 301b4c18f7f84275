"""Where the image listens: IPv6, a non-loopback address, and the healthcheck following it."""

from __future__ import annotations

import ipaddress
import json
import subprocess
from typing import Any

import pytest
import requests

from tests.support.processes import wait_for_health

pytestmark = pytest.mark.e2e


def url(address: str, port: int) -> str:
    host = f"[{address}]" if ipaddress.ip_address(address).version == 6 else address
    return f"http://{host}:{port}"


def this_machines_address() -> str:
    """An IPv4 address of this machine other than loopback: the container shares its network."""
    for address in subprocess.run(["hostname", "-I"], capture_output=True, text=True).stdout.split():
        parsed = ipaddress.ip_address(address)
        if parsed.version == 4 and not parsed.is_loopback:
            return address
    pytest.fail("this machine has no IPv4 address besides loopback (hostname -I)")


def healthcheck_status(server: Any, image: str) -> int:
    """Run the image's own HEALTHCHECK command in the container; its exit status."""
    inspected = subprocess.run(["docker", "image", "inspect", image], capture_output=True, check=True)
    command = json.loads(inspected.stdout)[0]["Config"]["Healthcheck"]["Test"][1:]  # after "CMD"
    return server.container.exec(command).exit_code


def test_listening_on_every_ipv6_address_serves_both_families_and_is_healthy(
    start_label_studio: Any, sso_image: str
) -> None:
    server = start_label_studio({"LISTEN_ADDRESS": "::"}, wait=False)
    wait_for_health(url("::1", server.port), 240, server.running, server.logs)

    assert requests.get(f"{url('127.0.0.1', server.port)}/health", timeout=10).status_code == 200
    assert f"Listening at: http://[::]:{server.port}" in server.logs()
    assert healthcheck_status(server, sso_image) == 0


@pytest.mark.parametrize("where", ["this machine's IPv4 address", "IPv6 loopback"])
def test_the_healthcheck_asks_the_address_the_server_listens_on(
    where: str, start_label_studio: Any, sso_image: str
) -> None:
    address = this_machines_address() if where.startswith("this") else "::1"
    server = start_label_studio({"LISTEN_ADDRESS": address}, wait=False)
    wait_for_health(url(address, server.port), 240, server.running, server.logs)

    with pytest.raises(requests.ConnectionError):  # not on 127.0.0.1, where it used to ask
        requests.get(f"{url('127.0.0.1', server.port)}/health", timeout=10)
    assert healthcheck_status(server, sso_image) == 0
