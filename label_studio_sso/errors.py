"""Every way a request is refused: login reasons, API error codes, and the one JSON error body.

A reason is a short word that travels to the audit event and the ``X-Label-Studio-SSO``
response header; it never carries any part of a token. An error code is what an API
client reads in ``{"error", "error_code"}``; each carries its HTTP status and the sentence
a person reads, so every error of a kind looks the same wherever it is raised.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import JsonResponse

RETRY_AFTER_SECONDS = "5"  # for 503 answers: the database is usually back within seconds


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
    INVALID_EMAIL = "invalid-email"
    LIFETIME_TOO_LONG = "lifetime-too-long"
    USER_NOT_FOUND = "user-not-found"
    USER_INACTIVE = "user-inactive"
    USER_DELETED = "user-deleted"
    USER_AMBIGUOUS = "user-ambiguous"
    USER_OUTRANKS_ISSUER = "user-outranks-issuer"
    NOT_IN_REQUIRED_GROUP = "not-in-required-group"
    USER_CREATION_OFF = "user-creation-off"
    EMAIL_DOMAIN_NOT_ALLOWED = "email-domain-not-allowed"
    NO_ORGANIZATION = "no-organization"
    ISSUER_OUTSIDE_ORGANIZATION = "issuer-outside-organization"
    STAFF_CHANGE_NOT_ALLOWED = "staff-change-not-allowed"
    REPLAYED = "replayed"
    DATABASE_UNAVAILABLE = "database-unavailable"
    # OpenID Connect: what went wrong between the login button and the callback.
    PROVIDER_UNAVAILABLE = "provider-unavailable"
    PROVIDER_REFUSED = "provider-refused"
    STATE_MISMATCH = "state-mismatch"
    NONCE_MISMATCH = "nonce-mismatch"
    EMAIL_NOT_VERIFIED = "email-not-verified"
    PASSWORD_LOGIN_OFF = "password-login-off"
    # SAML 2.0: what a response from the identity provider may get wrong beyond a token's faults.
    UNSIGNED = "unsigned"
    UNSOLICITED = "unsolicited-response"
    WRONG_DESTINATION = "wrong-destination"
    WRONG_RECIPIENT = "wrong-recipient"
    INVALID_RESPONSE = "invalid-response"
    BAD_HOST = "bad-host"  # our URLs cannot be built for the request's Host (LABEL_STUDIO_HOST unset)


class TokenRejected(Exception):
    """A login token was refused; ``reason`` is one of Reason's values.

    ``authentic`` says the token's signature verified: it was issued for this Label
    Studio (and ``user_id`` or, for a portal-signed token, ``email`` names its user when
    readable), so it was refused for its use (expired, replayed, user gone), not because
    someone made it up.
    """

    def __init__(
        self, reason: str, user_id: int | None = None, *, authentic: bool = False, email: str | None = None
    ) -> None:
        self.reason = reason
        self.user_id = user_id
        self.authentic = authentic
        self.email = email
        super().__init__(reason)


class Refused(Exception):
    """Something a way in was given is refused; ``reason`` is a Reason value."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class UserRefused(Refused):
    """No single user may be given what was asked for."""


@dataclass(frozen=True)
class ErrorKind:
    """An error code with its HTTP status and the sentence a person reads."""

    status: int
    sentence: str


class ErrorCode:
    """The API's error codes (the ``error_code`` field of every error body)."""

    INVALID_JSON = "INVALID_JSON"
    EMAIL_REQUIRED = "EMAIL_REQUIRED"
    INVALID_EMAIL = "INVALID_EMAIL"
    INVALID_NEXT = "INVALID_NEXT"
    NOT_AUTHENTICATED = "NOT_AUTHENTICATED"
    PERMISSION_DENIED = "PERMISSION_DENIED"
    CROSS_ORIGIN_REFUSED = "CROSS_ORIGIN_REFUSED"
    USER_OUTRANKS_ISSUER = "USER_OUTRANKS_ISSUER"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    LENGTH_REQUIRED = "LENGTH_REQUIRED"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
    USER_NOT_FOUND = "USER_NOT_FOUND"
    USER_INACTIVE = "USER_INACTIVE"
    USER_AMBIGUOUS = "USER_AMBIGUOUS"
    RATE_LIMITED = "RATE_LIMITED"
    DATABASE_UNAVAILABLE = "DATABASE_UNAVAILABLE"
    INVALID_IDENTITY = "INVALID_IDENTITY"
    NOT_IN_REQUIRED_GROUP = "NOT_IN_REQUIRED_GROUP"
    USER_CREATION_OFF = "USER_CREATION_OFF"
    EMAIL_DOMAIN_NOT_ALLOWED = "EMAIL_DOMAIN_NOT_ALLOWED"
    NO_ORGANIZATION = "NO_ORGANIZATION"
    ISSUER_OUTSIDE_ORGANIZATION = "ISSUER_OUTSIDE_ORGANIZATION"
    STAFF_CHANGE_NOT_ALLOWED = "STAFF_CHANGE_NOT_ALLOWED"
    GATEWAY_ASSERTION_INVALID = "GATEWAY_ASSERTION_INVALID"
    GATEWAY_IDENTITY_INVALID = "GATEWAY_IDENTITY_INVALID"
    GATEWAY_USER_REFUSED = "GATEWAY_USER_REFUSED"
    GATEWAY_REQUIRED = "GATEWAY_REQUIRED"


MAX_BODY_BYTES = 16 * 1024  # the token API's request body, at most

ERRORS: dict[str, ErrorKind] = {
    ErrorCode.INVALID_JSON: ErrorKind(
        400, 'The body must be a JSON object such as {"email": "alice@example.com"}.'
    ),
    ErrorCode.EMAIL_REQUIRED: ErrorKind(
        400, '"email" is required: the email address of a Label Studio user.'
    ),
    ErrorCode.INVALID_EMAIL: ErrorKind(
        400,
        '"email" must be one ASCII address such as alice@example.com (a domain in its xn-- form, '
        "no quoted local part, no trailing dot).",
    ),
    ErrorCode.INVALID_NEXT: ErrorKind(
        400, '"next" must be a path on this site starting with /, such as /projects/3/data.'
    ),
    ErrorCode.NOT_AUTHENTICATED: ErrorKind(
        401, "A Label Studio API token is required (Authorization: Token … or Bearer …)."
    ),
    ErrorCode.PERMISSION_DENIED: ErrorKind(
        403,
        "Only active staff users who are members of an organization may issue login tokens or end sessions.",
    ),
    ErrorCode.CROSS_ORIGIN_REFUSED: ErrorKind(
        403,
        "Cross-origin request refused: writes with a Label Studio session must come from Label "
        "Studio's own origin or from CSRF_TRUSTED_ORIGINS.",
    ),
    ErrorCode.USER_OUTRANKS_ISSUER: ErrorKind(
        403, "Only a superuser may issue login tokens for, or end the sessions of, a superuser."
    ),
    ErrorCode.METHOD_NOT_ALLOWED: ErrorKind(405, "Use POST."),
    ErrorCode.LENGTH_REQUIRED: ErrorKind(
        411, "Send the body with a Content-Length; chunked bodies are not read."
    ),
    ErrorCode.PAYLOAD_TOO_LARGE: ErrorKind(413, f"The body must be at most {MAX_BODY_BYTES} bytes."),
    ErrorCode.UNSUPPORTED_MEDIA_TYPE: ErrorKind(
        415, "The body must be JSON (Content-Type: application/json)."
    ),
    ErrorCode.USER_NOT_FOUND: ErrorKind(422, "No Label Studio user has this email address."),
    ErrorCode.USER_INACTIVE: ErrorKind(
        422, "This Label Studio user is deactivated or was removed from its organization."
    ),
    ErrorCode.USER_AMBIGUOUS: ErrorKind(
        422, "Several Label Studio users match this email address; use its exact case."
    ),
    ErrorCode.RATE_LIMITED: ErrorKind(
        429, "Too many token requests; retry after the number of seconds in Retry-After."
    ),
    ErrorCode.DATABASE_UNAVAILABLE: ErrorKind(503, "The database is unavailable; try again shortly."),
    ErrorCode.INVALID_IDENTITY: ErrorKind(
        400,
        '"create" must be true or false, "first_name" and "last_name" text of at most 150 printable '
        'characters, "groups" a list of at most 100 group names.',
    ),
    ErrorCode.NOT_IN_REQUIRED_GROUP: ErrorKind(
        403, 'The user is in none of the groups SSO_REQUIRED_GROUPS names (send them in "groups").'
    ),
    ErrorCode.USER_CREATION_OFF: ErrorKind(
        403, "Creating users is switched off (SSO_CREATE_USERS); create the user in Label Studio first."
    ),
    ErrorCode.EMAIL_DOMAIN_NOT_ALLOWED: ErrorKind(
        403, "Users with this email domain may not be created (SSO_ALLOWED_EMAIL_DOMAINS)."
    ),
    ErrorCode.NO_ORGANIZATION: ErrorKind(
        409, "The organization new users join does not exist (SSO_ORGANIZATION, or no organization yet)."
    ),
    ErrorCode.ISSUER_OUTSIDE_ORGANIZATION: ErrorKind(
        403, "New users join an organization the caller is not a member of (SSO_ORGANIZATION)."
    ),
    ErrorCode.STAFF_CHANGE_NOT_ALLOWED: ErrorKind(
        403, "These groups would change the user's staff flag (SSO_STAFF_GROUPS); only a superuser may."
    ),
    ErrorCode.GATEWAY_ASSERTION_INVALID: ErrorKind(
        401, "The gateway's signed identity assertion did not verify; sign in at the gateway again."
    ),
    ErrorCode.GATEWAY_IDENTITY_INVALID: ErrorKind(
        400, "The gateway's identity headers are not a valid email address, name or list of groups."
    ),
    ErrorCode.GATEWAY_USER_REFUSED: ErrorKind(403, "The gateway's user may not use Label Studio."),
    ErrorCode.GATEWAY_REQUIRED: ErrorKind(
        403, "Label Studio is reached only through its gateway here (SSO_PROXY_REQUIRED)."
    ),
}

CODE_BY_USER_REFUSAL: dict[str, str] = {
    Reason.USER_NOT_FOUND: ErrorCode.USER_NOT_FOUND,
    Reason.USER_AMBIGUOUS: ErrorCode.USER_AMBIGUOUS,
    Reason.USER_INACTIVE: ErrorCode.USER_INACTIVE,
    Reason.USER_DELETED: ErrorCode.USER_INACTIVE,
    Reason.USER_OUTRANKS_ISSUER: ErrorCode.USER_OUTRANKS_ISSUER,
    Reason.NOT_IN_REQUIRED_GROUP: ErrorCode.NOT_IN_REQUIRED_GROUP,
    Reason.USER_CREATION_OFF: ErrorCode.USER_CREATION_OFF,
    Reason.EMAIL_DOMAIN_NOT_ALLOWED: ErrorCode.EMAIL_DOMAIN_NOT_ALLOWED,
    Reason.INVALID_EMAIL: ErrorCode.INVALID_EMAIL,
    Reason.NO_ORGANIZATION: ErrorCode.NO_ORGANIZATION,
    Reason.ISSUER_OUTSIDE_ORGANIZATION: ErrorCode.ISSUER_OUTSIDE_ORGANIZATION,
    Reason.STAFF_CHANGE_NOT_ALLOWED: ErrorCode.STAFF_CHANGE_NOT_ALLOWED,
}


class ApiError(Exception):
    """An error the API answers with ``{"error": sentence, "error_code": code}``.

    ``sentence`` replaces the code's own where the client needs more precise words
    (which member was named twice, which methods are allowed).
    """

    def __init__(self, code: str, sentence: str | None = None, *, status: int | None = None) -> None:
        kind = ERRORS.get(code) or ErrorKind(status or 400, "The request was refused.")
        self.code = code
        self.status = status or kind.status
        self.sentence = sentence or kind.sentence
        super().__init__(self.sentence)

    @classmethod
    def for_user_refusal(cls, reason: str) -> ApiError:
        """The API error for a UserRefused reason."""
        return cls(CODE_BY_USER_REFUSAL[reason])


def oauth_error_response(status: int, error: str, description: str) -> JsonResponse:
    """An OAuth 2.0 error body (RFC 6749 5.2), where a protocol peer expects one (back-channel logout)."""
    response = JsonResponse({"error": error, "error_description": description}, status=status)
    response["Cache-Control"] = "no-store"
    return response


def error_response(error: ApiError) -> JsonResponse:
    """The one JSON error body; a 503 also says when to retry."""
    response = JsonResponse({"error": error.sentence, "error_code": error.code}, status=error.status)
    if error.status == 503:
        response["Retry-After"] = RETRY_AFTER_SECONDS
    return response


# What Label Studio's login page says after a sign-in at an identity provider ended there
# (``?sso_error=<reason>``). Protocol failures share one sentence: the details are for the
# audit log, not for whoever holds the browser.
_SIGN_IN_FAILED = "Signing in with your identity provider did not work. Please try again."
_NO_ACCOUNT = "There is no Label Studio account for your email address. Ask an administrator."
LOGIN_PAGE_SENTENCES: dict[str, str] = {
    Reason.PROVIDER_UNAVAILABLE: "Your identity provider cannot be reached right now. Try again later.",
    Reason.PROVIDER_REFUSED: "Your identity provider did not sign you in.",
    Reason.EMAIL_NOT_VERIFIED: "Your identity provider has not verified your email address.",
    Reason.USER_NOT_FOUND: _NO_ACCOUNT,
    Reason.INVALID_EMAIL: "Your email address is not one Label Studio accepts (ASCII only). Ask an admin.",
    Reason.USER_CREATION_OFF: _NO_ACCOUNT,
    Reason.EMAIL_DOMAIN_NOT_ALLOWED: "Accounts for your email domain are not made here. Ask an admin.",
    Reason.USER_INACTIVE: "Your Label Studio account is deactivated. Ask an administrator.",
    Reason.USER_DELETED: "Your Label Studio account is deactivated. Ask an administrator.",
    Reason.USER_AMBIGUOUS: "Several Label Studio accounts match your email address. Ask an administrator.",
    Reason.NOT_IN_REQUIRED_GROUP: "You are not in a group allowed to use Label Studio. Ask an administrator.",
    Reason.NO_ORGANIZATION: "Label Studio has no organization for new users yet. Ask an administrator.",
    Reason.DATABASE_UNAVAILABLE: "Label Studio's database is unavailable. Please try again shortly.",
    Reason.PASSWORD_LOGIN_OFF: "Password sign-in is switched off here.",
}


def login_page_sentence(reason: str | None) -> str | None:
    """The sentence for ``?sso_error=reason``; a reason we never send shows nothing."""
    if not reason:
        return None
    if reason in LOGIN_PAGE_SENTENCES:
        return LOGIN_PAGE_SENTENCES[reason]
    known = {value for name, value in vars(Reason).items() if name.isupper()}
    return _SIGN_IN_FAILED if reason in known else None
