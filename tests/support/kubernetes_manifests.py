"""deploy/kubernetes as Kubernetes would read it: rendered by kustomize, split by kind."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import requests
import yaml

from tests.support.repository import REPO

BASE = REPO / "deploy" / "kubernetes"
EXAMPLE_SECRET = BASE / "secret.example.yaml"


def rendered(base: Path = BASE) -> list[dict[str, Any]]:
    """``kubectl kustomize`` of the base: what ``kubectl apply -k`` would send."""
    assert shutil.which("kubectl"), "kubectl is needed to render deploy/kubernetes (no cluster is used)"
    output = subprocess.run(["kubectl", "kustomize", str(base)], capture_output=True, text=True, timeout=60)
    assert output.returncode == 0, output.stderr
    return [document for document in yaml.safe_load_all(output.stdout) if document]


def one(documents: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    matching = [document for document in documents if document["kind"] == kind]
    assert len(matching) == 1, f"{len(matching)} {kind} documents"
    return matching[0]


def example_secret() -> dict[str, Any]:
    return yaml.safe_load(EXAMPLE_SECRET.read_text())


def mint_as_the_first_user(url: str) -> requests.Response:
    """POST /api/sso/token for the first user, with the example Secret's API token for it."""
    return requests.post(
        f"{url}/api/sso/token",
        json={"email": "admin@example.com"},
        headers={"Authorization": f"Token {example_secret()['stringData']['admin-token']}"},
        timeout=30,
    )
