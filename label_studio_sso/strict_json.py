"""JSON that names each member once, or is refused.

JSON parsers disagree on which of two same-named members wins (Python keeps the last),
so a body or token that another component could read differently is never accepted.
"""

from __future__ import annotations

import json
from typing import Any


class DuplicateMember(ValueError):
    """The JSON text names one member twice in the same object."""


def loads(text: str | bytes) -> Any:
    """``json.loads`` that raises DuplicateMember instead of keeping the last duplicate."""
    return json.loads(text, object_pairs_hook=_unique_members)


def _unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    members = dict(pairs)
    if len(members) != len(pairs):
        raise DuplicateMember
    return members
