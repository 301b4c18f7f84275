"""Why a login token was refused, and the API's error codes with their HTTP status.

A reason is a short word that travels to the log, the audit event and the
``X-Label-Studio-SSO`` response header; it never carries any part of the token.
"""

from __future__ import annotations


class Reason:
    """Why a login did or did not happen."""

    LOGGED_IN = "logged-in"
    ALREADY_LOGGED_IN = "already-logged-in"
    CONFIRMATION_REQUIRED = "confirmation-required"
    MISSING = "missing-token"
    AMBIGUOUS = "ambiguous-token"
    TOO_LARGE = "token-too-large"
    MALFORMED = "malformed-token"
    BAD_HEADER = "bad-header"
    ALGORITHM = "unsupported-algorithm"
    UNKNOWN_KEY = "unknown-key"
    BAD_SIGNATURE = "bad-signature"
    EXPIRED = "expired"
    NOT_YET_VALID = "not-yet-valid"
    WRONG_AUDIENCE = "wrong-audience"
    WRONG_ISSUER = "wrong-issuer"
    MISSING_CLAIM = "missing-claim"
    INVALID_CLAIM = "invalid-claim"
    LIFETIME_TOO_LONG = "lifetime-too-long"
    USER_NOT_FOUND = "user-not-found"
    USER_INACTIVE = "user-inactive"
    USER_DELETED = "user-deleted"
    USER_AMBIGUOUS = "user-ambiguous"
    USER_OUTRANKS_ISSUER = "user-outranks-issuer"
    REPLAYED = "replayed"
    DATABASE_UNAVAILABLE = "database-unavailable"


class TokenRejected(Exception):
    """A login token was refused; ``reason`` is one of Reason's values.

    ``authentic`` says the token's signature verified: it was issued for this Label
    Studio (and ``user_id`` names its user when readable), so it was refused for its use
    (expired, replayed, user gone), not because someone made it up.
    """

    def __init__(self, reason: str, user_id: int | None = None, *, authentic: bool = False) -> None:
        self.reason = reason
        self.user_id = user_id
        self.authentic = authentic
        super().__init__(reason)


class ErrorCode:
    """The token API's error codes (the ``error_code`` field of every error body)."""

    INVALID_JSON = "INVALID_JSON"
    EMAIL_REQUIRED = "EMAIL_REQUIRED"
    INVALID_NEXT = "INVALID_NEXT"
    NOT_AUTHENTICATED = "NOT_AUTHENTICATED"
    PERMISSION_DENIED = "PERMISSION_DENIED"
    CROSS_ORIGIN_REFUSED = "CROSS_ORIGIN_REFUSED"
    USER_OUTRANKS_ISSUER = "USER_OUTRANKS_ISSUER"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    LENGTH_REQUIRED = "LENGTH_REQUIRED"
    NOT_ACCEPTABLE = "NOT_ACCEPTABLE"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
    USER_NOT_FOUND = "USER_NOT_FOUND"
    USER_INACTIVE = "USER_INACTIVE"
    USER_AMBIGUOUS = "USER_AMBIGUOUS"
    RATE_LIMITED = "RATE_LIMITED"
    DATABASE_UNAVAILABLE = "DATABASE_UNAVAILABLE"


STATUS_BY_CODE: dict[str, int] = {
    ErrorCode.INVALID_JSON: 400,
    ErrorCode.EMAIL_REQUIRED: 400,
    ErrorCode.INVALID_NEXT: 400,
    ErrorCode.NOT_AUTHENTICATED: 401,
    ErrorCode.PERMISSION_DENIED: 403,
    ErrorCode.CROSS_ORIGIN_REFUSED: 403,
    ErrorCode.USER_OUTRANKS_ISSUER: 403,
    ErrorCode.METHOD_NOT_ALLOWED: 405,
    ErrorCode.LENGTH_REQUIRED: 411,
    ErrorCode.NOT_ACCEPTABLE: 406,
    ErrorCode.PAYLOAD_TOO_LARGE: 413,
    ErrorCode.UNSUPPORTED_MEDIA_TYPE: 415,
    ErrorCode.USER_NOT_FOUND: 422,
    ErrorCode.USER_INACTIVE: 422,
    ErrorCode.USER_AMBIGUOUS: 422,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.DATABASE_UNAVAILABLE: 503,
}


class ApiError(Exception):
    """An error the token API answers with ``{"error": message, "error_code": code}``."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        self.status = STATUS_BY_CODE[code]
        super().__init__(message)
