"""SCIM ids: a user's is its Label Studio id, a group's ``group-`` and its row's key.

RFC 7643 (section 3.1) wants an id unique across every resource of a service, so no group may
share an id with a user.
"""

from __future__ import annotations

from typing import Any

GROUP_ID_PREFIX = "group-"


def is_scim_id(text: str) -> bool:
    """Whether ``text`` can be a user's SCIM id: a row's primary key, in ASCII digits."""
    return text.isascii() and text.isdigit() and len(text) <= 18


def group_id(group: Any) -> str:
    """A group's SCIM id."""
    return f"{GROUP_ID_PREFIX}{group.pk}"


def group_key(resource_id: str) -> int | None:
    """The row key a group's SCIM id names, or None for anything else."""
    digits = resource_id.removeprefix(GROUP_ID_PREFIX)
    return int(digits) if resource_id.startswith(GROUP_ID_PREFIX) and is_scim_id(digits) else None
