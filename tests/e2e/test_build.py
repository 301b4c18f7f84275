"""A fresh clone builds as users build it: plain `docker build` and `docker compose build`.

No registry is reachable here, so the base is the offline one docker/build-image made for
the rest of the suite (its own path stays tested by every other end-to-end test). PyPI is
reachable from a build only over the host's network with the host's CA bundle
(ENVIRONMENT.md): the bundle goes into the build context under .build/, is named by
PIP_CERT, and must not reach the final image.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

import label_studio_sso
from tests.support.processes import free_port, wait_for_health
from tests.support.repository import REPO

pytestmark = pytest.mark.e2e

HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
PIP_CERT = "/src/.build/ca-certificates.crt"  # where the build stage finds the copy


def inspect(image: str) -> dict[str, Any]:
    return json.loads(
        subprocess.run(["docker", "image", "inspect", image], capture_output=True, check=True).stdout
    )[0]


def fresh_clone(destination: Path) -> Path:
    """This checkout's files as a clone would have them: tracked and new, never ignored ones."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO, capture_output=True, check=True,
    ).stdout.decode().split("\0")  # fmt: skip
    for name in filter(None, listed):
        source = REPO / name
        if source.is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    return destination


@pytest.fixture(scope="module")
def clone(tmp_path_factory: Any, sso_image: str) -> Iterator[tuple[Path, str]]:
    """A fresh clone with the host's CA bundle under .build/, and the offline base's name."""
    directory = fresh_clone(tmp_path_factory.mktemp("clone"))
    (directory / ".build").mkdir()
    shutil.copy(HOST_CA_BUNDLE, directory / ".build" / "ca-certificates.crt")
    yield directory, inspect(sso_image)["Config"]["Labels"]["org.opencontainers.image.base.name"]


@pytest.fixture(scope="module")
def plain_image(clone: tuple[Path, str]) -> Iterator[str]:
    directory, base = clone
    tag = "label-studio-sso:plain-build"
    built = subprocess.run(
        ["docker", "build", "--network", "host", "--build-arg", f"LABEL_STUDIO_IMAGE={base}",
         "--build-arg", f"PIP_CERT={PIP_CERT}", "-t", tag, "."],
        cwd=directory, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert built.returncode == 0, (built.stdout + built.stderr)[-4000:]
    yield tag
    subprocess.run(["docker", "image", "rm", "-f", tag], capture_output=True)


def run_in(image: str, script: str) -> str:
    return subprocess.run(
        ["docker", "run", "--rm", "--entrypoint", "sh", image, "-c", script],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip


def test_plain_docker_build_installs_this_package_and_the_pinned_gunicorn(plain_image: str) -> None:
    versions = run_in(
        plain_image,
        "python3 -c 'import gunicorn, label_studio_sso as l; print(l.__version__, gunicorn.__version__)'",
    )
    pinned = (REPO / "docker" / "server-requirements.txt").read_text().split("gunicorn==")[1].split()[0]
    assert versions.split() == [label_studio_sso.__version__, pinned]
    labels = inspect(plain_image)["Config"]["Labels"]
    assert labels["org.opencontainers.image.version"] == label_studio_sso.__version__


def test_the_ca_bundle_and_the_build_stay_in_the_build_stage(
    plain_image: str, clone: tuple[Path, str]
) -> None:
    history = subprocess.run(
        ["docker", "history", "--no-trunc", "--format", "{{.CreatedBy}}", plain_image],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "PIP_CERT" not in history and ".build" not in history
    assert run_in(plain_image, "ls -d /src /tmp/* 2>/dev/null; find /opt/label-studio-sso /label-studio-sso "
                  "-name '*.crt' -o -name '*.pem' -o -name '*.whl'") == ""  # fmt: skip
    _directory, base = clone
    added = inspect(plain_image)["Size"] - inspect(base)["Size"]
    # this package, gunicorn, Authlib and joserfc (about 5.3 MB), for SCIM scim2-models, lark,
    # email-validator and dnspython (about 6 MB), for SAML python3-saml and xmlsec (about 13 MB):
    # 23.6 MB measured
    assert added < 26_000_000


def test_the_plainly_built_image_serves(plain_image: str) -> None:
    port = free_port()
    name = f"lsso-plain-{port}"
    subprocess.run(
        ["docker", "run", "-d", "--name", name, "--network", "host", "-e", f"PORT={port}",
         "-e", "LISTEN_ADDRESS=127.0.0.1", plain_image],
        capture_output=True, check=True,
    )  # fmt: skip
    try:
        wait_for_health(f"http://127.0.0.1:{port}", 240)
        token_api = requests.post(f"http://127.0.0.1:{port}/api/sso/token", json={}, timeout=30)
        assert token_api.status_code == 401  # the SSO app answers, and wants credentials
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True)


def test_docker_compose_build_builds_the_same_image(clone: tuple[Path, str], plain_image: str) -> None:
    directory, base = clone
    tag = "label-studio-sso:compose-build"
    compose = ["docker", "compose"] if subprocess.run(
        ["docker", "compose", "version"], capture_output=True
    ).returncode == 0 else ["docker-compose"]  # fmt: skip
    env = {
        **os.environ,
        "LSSO_IMAGE": tag,
        "LABEL_STUDIO_IMAGE": base,
        "LSSO_BUILD_NETWORK": "host",
        "PIP_CERT": PIP_CERT,
        "COMPOSE_PROJECT_NAME": "lsso-build-test",
    }
    built = subprocess.run(
        [*compose, "build", "label-studio"],
        cwd=directory,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    try:
        assert built.returncode == 0, (built.stdout + built.stderr)[-4000:]
        assert inspect(tag)["RootFS"]["Layers"] == inspect(plain_image)["RootFS"]["Layers"]
    finally:
        subprocess.run(["docker", "image", "rm", "-f", tag], capture_output=True)
