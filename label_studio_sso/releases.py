"""The Label Studio releases this package supports, and what differs between them, handled once.

Supported: 1.20.0 (the first with Personal Access Tokens) up to 1.23.x. What differs among
them that this package relies on, each answered here and nowhere else:

- the PostgreSQL driver: 1.20 and 1.21 ship psycopg2, 1.22 and later psycopg 3
  (``postgres_driver``);
- LATEST_VERSION_CHECK: 1.20 and 1.21 hard-code it to True and ask PyPI for the latest
  release while their settings are imported, so the environment variable that keeps the
  server quiet is honoured here (``keep_version_check_off``, ``latest_version_check``);
- the users app's migrations: 1.20 stops at 0010, so this package's migrations name only the
  user model (``settings.AUTH_USER_MODEL``), never a Label Studio migration by number (a test
  holds every migration to that).

One more difference comes with them rather than from them: 1.20 to 1.22 resolve PyJWT 2.15,
1.23 PyJWT 2.13, which fail differently on some hostile tokens; that is settled where tokens
are verified (``signed_tokens.refusal`` and ``signed_tokens.unverified_header``).

Checked and the same on all four: the settings module (``core.settings.label_studio``), the
middleware this package places itself around, the JWT/PAT app (``jwt_auth``), organization
membership (``OrganizationMember.deleted_at``), the login template's blocks, ``users.views``.
"""

from __future__ import annotations

import math
import re
from importlib import metadata
from types import ModuleType

OLDEST = (1, 20, 0)
NEWEST_MINOR = (1, 23)  # any 1.23.x; 1.24 is not yet tested
SUPPORTED_RANGE = "1.20.0 to 1.23.x"

_RELEASE = re.compile(r"(\d+)\.(\d+)\.(\d+)")


def installed_label_studio() -> str | None:
    """The installed Label Studio's version, or None where this package runs on plain Django."""
    try:
        return metadata.version("label-studio")
    except metadata.PackageNotFoundError:
        return None


def unsupported_release(version: str | None) -> str | None:
    """Why ``version`` of Label Studio is not supported, or None when it is (or is absent)."""
    if version is None:
        return None
    match = _RELEASE.match(version)
    release = tuple(int(part) for part in match.groups()) if match else None
    if release is not None and release >= OLDEST and release[:2] <= NEWEST_MINOR:
        return None
    return (
        f"Label Studio {version[:40]} is installed; label-studio-sso supports {SUPPORTED_RANGE} "
        f"and has not been tested on this release"
    )


def latest_version_check() -> bool:
    """LATEST_VERSION_CHECK read as 1.22 and later read it (1.20 and 1.21 hard-code True).

    Label Studio's own reader, so every spelling and value it accepts means the same on every
    release. The settings overlay sets the setting from it after Label Studio's settings.
    """
    from core.utils.params import get_bool_env

    return get_bool_env("LATEST_VERSION_CHECK", True)


def keep_version_check_off() -> None:
    """Before Label Studio's settings are imported: no request to PyPI unless LATEST_VERSION_CHECK asks.

    1.20 and 1.21 make the request while their settings module is imported, whatever the
    variable says; their check skips itself when the last one was made less than a minute
    ago, so with the variable false the last check is marked as made at the end of time.
    1.22 and later read the variable themselves; this changes nothing there.
    """
    if not latest_version_check():
        import label_studio

        label_studio.__latest_version_check_time__ = math.inf


def postgres_driver() -> ModuleType:
    """The PostgreSQL driver Label Studio ships: psycopg 3 (1.22 and later), else psycopg2."""
    try:
        import psycopg
    except ImportError:
        import psycopg2 as psycopg
    return psycopg
