"""The package's version: written once (the Dockerfile), read from the installed metadata."""

from __future__ import annotations

import importlib
import importlib.metadata
import re
from typing import Any

import label_studio_sso
from tests.support.repository import REPO


def test_the_version_is_the_dockerfiles() -> None:
    declared = re.search(r"^ARG LSSO_VERSION=(\S+)$", (REPO / "Dockerfile").read_text(), re.MULTILINE)
    assert declared is not None and label_studio_sso.__version__ == declared.group(1)


def test_a_checkout_that_is_not_installed_says_its_version_is_unknown(monkeypatch: Any) -> None:
    def not_installed(name: str) -> str:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", not_installed)
    try:
        assert importlib.reload(label_studio_sso).__version__ == "0+unknown"
    finally:
        monkeypatch.undo()
        importlib.reload(label_studio_sso)
    assert label_studio_sso.__version__ != "0+unknown"
