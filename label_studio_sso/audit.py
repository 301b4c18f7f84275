"""Audit events on their own logger: issuance, logins, ended sessions, provisioning, refusals.

Events carry user ids, the issuer's id, the transport and a fingerprint of the token
id: enough to correlate and investigate, never the token, its payload or a key.
"""

from __future__ import annotations

import hashlib
import logging

from .errors import Reason

audit_logger = logging.getLogger("label_studio_sso.audit")
_WARNINGS = frozenset({Reason.REPLAYED, Reason.DATABASE_UNAVAILABLE})


def fingerprint(jti: str) -> str:
    """A short hash of a token id, to correlate issuance and login in logs."""
    return hashlib.sha256(jti.encode("utf-8")).hexdigest()[:12]


def token_issued(*, issuer_id: int | None, user_id: int, jti: str, expires_in: int) -> None:
    """A login token was signed for a user."""
    audit_logger.info(
        "sso token issued: issuer_id=%s user_id=%s token=%s expires_in=%s",
        issuer_id if issuer_id is not None else "cli",
        user_id,
        fingerprint(jti),
        expires_in,
        extra={"sso_event": "token_issued", "issuer_id": issuer_id, "sso_user_id": user_id},
    )


def login_succeeded(*, user_id: int, jti: str, transport: str) -> None:
    """A login token became a Label Studio session."""
    audit_logger.info(
        "sso login succeeded: user_id=%s token=%s via=%s",
        user_id,
        fingerprint(jti),
        transport,
        extra={"sso_event": "login_succeeded", "sso_user_id": user_id},
    )


def provider_login_succeeded(*, user_id: int, via: str, created: bool = False) -> None:
    """An identity provider's sign-in became a Label Studio session."""
    audit_logger.info(
        "sso login succeeded: user_id=%s via=%s created=%s",
        user_id,
        via,
        "yes" if created else "no",
        extra={"sso_event": "login_succeeded", "sso_user_id": user_id},
    )


def gateway_headers_ignored(*, peer: str, headers: list[str]) -> None:
    """Identity headers came from a peer that is not in SSO_TRUSTED_PROXIES (names only, never values)."""
    audit_logger.warning(
        "sso gateway headers ignored: peer=%s headers=%s (not in SSO_TRUSTED_PROXIES)",
        peer,
        ",".join(headers),
        extra={"sso_event": "gateway_headers_ignored", "sso_peer": peer},
    )


def gateway_bypass_refused(*, peer: str, path: str) -> None:
    """SSO_PROXY_REQUIRED: a request came straight to Label Studio, not through the gateway."""
    audit_logger.warning(
        "sso request refused: peer=%s path=%s (not through the gateway; SSO_PROXY_REQUIRED)",
        peer,
        path,
        extra={"sso_event": "gateway_bypass_refused", "sso_peer": peer},
    )


def backchannel_logout_refused(*, reason: str) -> None:
    """A back-channel logout request was refused (its token did not verify, or was replayed)."""
    audit_logger.warning(
        "sso back-channel logout refused: reason=%s",
        reason,
        extra={"sso_event": "backchannel_logout_refused", "sso_reason": reason},
    )


def login_held(*, user_id: int, jti: str, transport: str) -> None:
    """A token would switch users on a request from another site; the browser must confirm."""
    audit_logger.warning(
        "sso login awaits confirmation: user_id=%s token=%s via=%s",
        user_id,
        fingerprint(jti),
        transport,
        extra={"sso_event": "login_held", "sso_user_id": user_id},
    )


def login_declined(*, user_id: int) -> None:
    """The person at the browser refused a held user switch and stayed who they were."""
    audit_logger.warning(
        "sso login declined at confirmation: user_id=%s",
        user_id,
        extra={"sso_event": "login_declined", "sso_user_id": user_id},
    )


def login_refused(
    *, reason: str, transport: str, user_id: int | None = None, session_ended: bool = False
) -> None:
    """A login token was refused; a replay or an ended session is a warning, the rest information."""
    level = logging.WARNING if reason in _WARNINGS or session_ended else logging.INFO
    audit_logger.log(
        level,
        "sso login refused: reason=%s via=%s user_id=%s session_ended=%s",
        reason,
        transport,
        user_id if user_id is not None else "-",
        "yes" if session_ended else "no",
        extra={
            "sso_event": "login_refused",
            "sso_reason": reason,
            "sso_user_id": user_id,
            "sso_session_ended": session_ended,
        },
    )


def token_refused(*, issuer_id: int | None, code: str, status: int) -> None:
    """The token API refused a request; refusals of who is asking (401, 403) are warnings."""
    _api_refused("token", issuer_id=issuer_id, code=code, status=status)


def logout_refused(*, issuer_id: int | None, code: str, status: int) -> None:
    """The logout API refused a request; refusals of who is asking (401, 403) are warnings."""
    _api_refused("logout", issuer_id=issuer_id, code=code, status=status)


def _api_refused(api: str, *, issuer_id: int | None, code: str, status: int) -> None:
    audit_logger.log(
        logging.WARNING if status in (401, 403) else logging.INFO,
        f"sso {api} refused: issuer_id=%s error_code=%s status=%s",
        issuer_id if issuer_id is not None else "-",
        code,
        status,
        extra={"sso_event": f"{api}_refused", "issuer_id": issuer_id, "sso_error_code": code},
    )


def write_refused(*, method: str, path: str, origin: str | None) -> None:
    """A write riding a logged-in session came from an origin the operator did not name."""
    audit_logger.warning(
        "sso refused a cross-origin write: %s %s origin=%s",
        method[:16],
        path[:200],
        (origin or "missing")[:200],
        extra={"sso_event": "write_refused"},
    )


def sessions_ended(*, user_id: int, cause: str, issuer_id: int | None = None) -> None:
    """Every session of a user was ended: by the logout API, a logout, or losing access."""
    audit_logger.info(
        "sso sessions ended: user_id=%s cause=%s issuer_id=%s",
        user_id,
        cause,
        issuer_id if issuer_id is not None else "-",
        extra={
            "sso_event": "sessions_ended",
            "sso_user_id": user_id,
            "sso_cause": cause,
            "issuer_id": issuer_id,
        },
    )


def session_refused(*, user_id: int) -> None:
    """A browser came back with a session that had been ended; it is anonymous now."""
    audit_logger.info(
        "sso refused an ended session: user_id=%s",
        user_id,
        extra={"sso_event": "session_refused", "sso_user_id": user_id},
    )


def user_created(*, user_id: int, via: str, issuer_id: int | None = None) -> None:
    """A user was created on their first login (SSO_CREATE_USERS)."""
    audit_logger.info(
        "sso user created: user_id=%s via=%s issuer_id=%s",
        user_id,
        via,
        issuer_id if issuer_id is not None else "-",
        extra={"sso_event": "user_created", "sso_user_id": user_id, "issuer_id": issuer_id},
    )


def user_updated(*, user_id: int, fields: list[str], via: str) -> None:
    """A login changed a user's names or staff flag (which fields, never their values)."""
    audit_logger.info(
        "sso user updated: user_id=%s fields=%s via=%s",
        user_id,
        ",".join(fields),
        via,
        extra={"sso_event": "user_updated", "sso_user_id": user_id},
    )


def scim_refused(*, method: str, resource: str, status: int, scim_type: str | None, peer: str) -> None:
    """A SCIM request was refused: which endpoint, why (status, scimType) and from where; no body."""
    audit_logger.log(
        logging.WARNING if status in (401, 429) else logging.INFO,
        "sso scim refused: method=%s resource=%s status=%s scim_type=%s peer=%s",
        method,
        resource,
        status,
        scim_type or "-",
        peer,
        extra={"sso_event": "scim_refused", "sso_status": status, "sso_scim_type": scim_type},
    )


def user_deactivated(*, user_id: int, via: str) -> None:
    """A user was deactivated (SCIM ``active: false`` or DELETE); their sessions end with it."""
    audit_logger.info(
        "sso user deactivated: user_id=%s via=%s",
        user_id,
        via,
        extra={"sso_event": "user_deactivated", "sso_user_id": user_id},
    )


def user_reactivated(*, user_id: int, via: str) -> None:
    """A user was switched back on: only SCIM, the administrator's system, ever does this."""
    audit_logger.info(
        "sso user reactivated: user_id=%s via=%s",
        user_id,
        via,
        extra={"sso_event": "user_reactivated", "sso_user_id": user_id},
    )


def scim_group_changed(*, group_id: int, change: str, members: int) -> None:
    """A SCIM group was created, changed or deleted (its id and member count, never names)."""
    audit_logger.info(
        "sso scim group %s: group_id=%s members=%s",
        change,
        group_id,
        members,
        extra={"sso_event": "scim_group_changed", "sso_group_id": group_id},
    )
