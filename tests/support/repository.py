"""Where this checkout and the tests' cache are."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("LSSO_CACHE_DIR", Path.home() / ".cache" / "label-studio-sso"))
