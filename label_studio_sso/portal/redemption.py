"""Single use of login tokens: each token id is spent once, on every replica (``single_use``)."""

from __future__ import annotations

from ..conf import sso_settings
from ..errors import Reason, TokenRejected
from ..login_tokens import LoginClaims
from ..single_use import PURGE_BATCH, purge_expired, spend_once

__all__ = ["PURGE_BATCH", "purge_expired", "redeem"]


def redeem(claims: LoginClaims, user_id: int) -> None:
    """Record the token as used by ``user_id``; raise TokenRejected(replayed) if it already was."""
    if not sso_settings.SSO_SINGLE_USE:
        return
    if not spend_once(claims.jti, user_id=user_id, expires_at=claims.expires_at):
        raise TokenRejected(Reason.REPLAYED, claims.user_id, authentic=True, email=claims.email)
