"""The login tokens a browser brings (cookie, ``?token=``, ``/api/sso/login``), whoever signed them.

Two ways in sign login tokens: the token API (``portal/``, HS256 under this instance's key)
and a portal with keys of its own (``portal_signed/``, asymmetric). A token's header says which
kind it is; each way in registers its kind when the app is ready (``apps.py``), so the
redemption flow reads both kinds and imports neither way in.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .errors import Reason, TokenRejected
from .provisioning import Identity
from .signed_tokens import check_shape, unverified_header

MAX_LOGIN_TOKEN_BYTES = 4096
TOKEN_API_ALGORITHM = "HS256"  # the token API signs with this; a portal's own tokens never do
_JWS_SHAPED = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")  # alg none: no signature


@dataclass(frozen=True)
class LoginClaims:
    """The verified content of a login token that the login needs.

    Our own tokens name the user by id and email; a portal-signed token by email alone,
    with the rest of its ``identity`` (names, groups) for provisioning.
    """

    user_id: int | None
    email: str
    jti: str
    expires_at: datetime
    identity: Identity | None = None


@dataclass(frozen=True)
class LoginTokenKind:
    """One signer's login tokens: which headers are its (by ``alg``), and how to verify them."""

    name: str
    takes: Callable[[Any], bool]  # given the header's alg, whatever its type
    verify: Callable[[str], LoginClaims]


_kinds: dict[str, LoginTokenKind] = {}


def register_kind(kind: LoginTokenKind) -> None:
    """Add a kind; kinds are asked in the order they were registered, the first taker verifies."""
    _kinds[kind.name] = kind


def could_be_login_token(value: str) -> bool:
    """True for a value shaped like a signed JWT (three base64url parts).

    Other values under the same parameter name are not ours: Label Studio's own invite
    links carry its organization token as ``?token=`` on the sign-up page.
    """
    return _JWS_SHAPED.fullmatch(value) is not None


def verify_login_token(raw: Any) -> LoginClaims:
    """The claims of a valid login token of any registered kind, or TokenRejected."""
    check_shape(raw, MAX_LOGIN_TOKEN_BYTES)
    algorithm = unverified_header(raw).get("alg")
    for kind in _kinds.values():
        if kind.takes(algorithm):
            return kind.verify(raw)
    raise TokenRejected(Reason.ALGORITHM)
