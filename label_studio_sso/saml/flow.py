"""The sign-in itself: send the browser to the provider, then check what it posts back.

``start`` makes an AuthnRequest (HTTP-Redirect) and keeps its ID in this browser's session.
``finish`` reads the posted response with python3-saml, which checks the schema, the status,
that there is exactly one assertion, the signature over it (or over the whole response) by a
certificate from the provider's metadata, the issuer, the audience, the time window and the
InResponseTo it is given. On top of that it requires what python3-saml leaves optional or
compares loosely: a request of this browser answered once (or, with
SSO_SAML_ALLOW_IDP_INITIATED, none at all), an Audience, Destination and a bearer Recipient
exactly our ACS URL, an expiry, and an assertion ID never spent before on any replica. Every
failure is a ``LoginRefused`` with a reason; nothing about a response can become a 500.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from typing import Any

from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from onelogin.saml2.auth import OneLogin_Saml2_Auth
from onelogin.saml2.constants import OneLogin_Saml2_Constants
from onelogin.saml2.errors import OneLogin_Saml2_ValidationError
from onelogin.saml2.response import OneLogin_Saml2_Response
from onelogin.saml2.xml_utils import OneLogin_Saml2_XML

from ..conf import sso_settings
from ..errors import Reason, Refused, UserRefused
from ..provisioning import provision
from ..single_use import spend_once
from ..transactions import in_one_transaction
from .identity import ClaimsRefused, identity_from_assertion
from .metadata import MetadataUnavailable
from .service_provider import UnusableHost, acs_url, request_data, saml_settings

VIA = "saml"
PENDING_KEY = "sso_saml_requests"  # request ID -> {"next", "exp"} in the browser's session
MAX_PENDING_SIGN_INS = 5
REQUEST_LIFETIME_SECONDS = 600  # a person has ten minutes at the provider's sign-in page
MAX_RESPONSE_CHARS = 512 * 1024  # base64 of the response; Entra ID's with 200 groups is ~40 KiB

_VALIDATION_REASONS = {
    OneLogin_Saml2_ValidationError.STATUS_CODE_IS_NOT_SUCCESS: Reason.PROVIDER_REFUSED,
    OneLogin_Saml2_ValidationError.WRONG_AUDIENCE: Reason.WRONG_AUDIENCE,
    OneLogin_Saml2_ValidationError.WRONG_ISSUER: Reason.WRONG_ISSUER,
    OneLogin_Saml2_ValidationError.ISSUER_MULTIPLE_IN_RESPONSE: Reason.WRONG_ISSUER,
    OneLogin_Saml2_ValidationError.ISSUER_NOT_FOUND_IN_ASSERTION: Reason.WRONG_ISSUER,
    OneLogin_Saml2_ValidationError.ASSERTION_EXPIRED: Reason.EXPIRED,
    OneLogin_Saml2_ValidationError.SESSION_EXPIRED: Reason.EXPIRED,
    OneLogin_Saml2_ValidationError.RESPONSE_EXPIRED: Reason.EXPIRED,
    OneLogin_Saml2_ValidationError.ASSERTION_TOO_EARLY: Reason.NOT_YET_VALID,
    OneLogin_Saml2_ValidationError.WRONG_DESTINATION: Reason.WRONG_DESTINATION,
    OneLogin_Saml2_ValidationError.EMPTY_DESTINATION: Reason.WRONG_DESTINATION,
    OneLogin_Saml2_ValidationError.WRONG_SUBJECTCONFIRMATION: Reason.WRONG_RECIPIENT,
    OneLogin_Saml2_ValidationError.WRONG_INRESPONSETO: Reason.STATE_MISMATCH,
    OneLogin_Saml2_ValidationError.NO_SIGNATURE_FOUND: Reason.UNSIGNED,
    OneLogin_Saml2_ValidationError.INVALID_SIGNATURE: Reason.BAD_SIGNATURE,
    OneLogin_Saml2_ValidationError.DEPRECATED_SIGNATURE_METHOD: Reason.ALGORITHM,
    OneLogin_Saml2_ValidationError.DEPRECATED_DIGEST_METHOD: Reason.ALGORITHM,
    OneLogin_Saml2_ValidationError.NO_NAMEID: Reason.MISSING_CLAIM,
    OneLogin_Saml2_ValidationError.EMPTY_NAMEID: Reason.MISSING_CLAIM,
}


class LoginRefused(Refused):
    """The sign-in did not end in a login; ``reason`` is a Reason value."""


@dataclass(frozen=True)
class SignedIn:
    """A finished sign-in, and what single logout will need of it (kept in the session)."""

    user: Any
    created: bool
    next_path: str | None
    session_marks: dict[str, Any] = field(default_factory=dict)


def start(request: HttpRequest, next_path: str) -> HttpResponseRedirect:
    """The redirect to the provider's sign-in service; MetadataUnavailable if it is unknown,
    UnusableHost if our URLs cannot be built for this request."""
    settings = saml_settings(request)
    auth = OneLogin_Saml2_Auth(request_data(request, reverse("label_studio_sso_saml:login")), settings)
    url = auth.login(return_to=next_path)
    pending = _pending(request)
    pending[auth.get_last_request_id()] = {"next": next_path, "exp": time.time() + REQUEST_LIFETIME_SECONDS}
    request.session[PENDING_KEY] = dict(
        sorted(pending.items(), key=lambda item: item[1]["exp"])[-MAX_PENDING_SIGN_INS:]
    )
    return HttpResponseRedirect(url)


def _pending(request: HttpRequest) -> dict[str, dict[str, Any]]:
    """The sign-ins this browser started and has not finished, expired ones dropped."""
    stored = request.session.get(PENDING_KEY)
    if not isinstance(stored, dict):
        return {}
    now = time.time()
    return {
        key: value
        for key, value in stored.items()
        if isinstance(value, dict) and isinstance(value.get("exp"), int | float) and value["exp"] > now
    }


def finish(request: HttpRequest) -> SignedIn:
    """The user the provider's response names, found, created or refreshed; else LoginRefused."""
    encoded = request.POST.get("SAMLResponse")
    if not encoded:
        raise LoginRefused(Reason.MISSING)
    if len(encoded) > MAX_RESPONSE_CHARS:
        raise LoginRefused(Reason.TOO_LARGE)
    try:
        settings = saml_settings(request)
    except MetadataUnavailable:
        raise LoginRefused(Reason.PROVIDER_UNAVAILABLE) from None
    except UnusableHost:
        raise LoginRefused(Reason.BAD_HOST) from None
    entity_id = settings.get_idp_data()["entityId"]
    response = _parsed(settings, encoded)
    request_id, next_path = _answered_request(request, response)
    _validate(request, response, request_id)
    attributes, name_id, name_id_format, expires_at = _verified_content(response)
    _spend(request, request_id, response, entity_id, expires_at)
    try:
        identity = identity_from_assertion(attributes, name_id, name_id_format)
        user, created = in_one_transaction(lambda: provision(identity, via=VIA))
    except (ClaimsRefused, UserRefused) as refused:
        raise LoginRefused(refused.reason) from None
    marks = {
        "sso_saml_name_id": name_id,
        "sso_saml_name_id_format": name_id_format,
        "sso_saml_session_index": response.get_session_index(),
    }
    return SignedIn(user, created, next_path, marks)


def _parsed(settings: Any, encoded: str) -> OneLogin_Saml2_Response:
    """The response as python3-saml parses it (no DTD, no entities; decrypted with our key)."""
    try:
        return OneLogin_Saml2_Response(settings, encoded)
    except Exception:
        raise LoginRefused(Reason.MALFORMED) from None


def _answered_request(
    request: HttpRequest, response: OneLogin_Saml2_Response
) -> tuple[str | None, str | None]:
    """The request of this browser the response answers, and where that sign-in lands."""
    in_response_to = response.get_in_response_to()
    if in_response_to is None:
        if not sso_settings.SSO_SAML_ALLOW_IDP_INITIATED:
            raise LoginRefused(Reason.UNSOLICITED)
        return None, None
    pending = _pending(request).get(in_response_to)
    if pending is None:
        raise LoginRefused(Reason.STATE_MISMATCH)
    return in_response_to, pending.get("next")


def _validate(request: HttpRequest, response: OneLogin_Saml2_Response, request_id: str | None) -> None:
    data = request_data(request, reverse("label_studio_sso_saml:acs"))
    try:
        response.is_valid(data, request_id, raise_exceptions=True)
    except OneLogin_Saml2_ValidationError as error:
        raise LoginRefused(_VALIDATION_REASONS.get(error.code, Reason.INVALID_RESPONSE)) from None
    except Exception:
        raise LoginRefused(Reason.INVALID_RESPONSE) from None
    acs = acs_url(request)
    destination = response.document.get("Destination")
    if destination is not None and destination != acs:
        raise LoginRefused(Reason.WRONG_DESTINATION)  # python3-saml accepts any URL our ACS URL begins
    if not response.get_audiences():
        raise LoginRefused(Reason.WRONG_AUDIENCE)  # python3-saml accepts an assertion for anyone
    if not _bearer_for(response, acs, request_id):
        raise LoginRefused(Reason.WRONG_RECIPIENT)


def _bearer_for(response: OneLogin_Saml2_Response, acs: str, request_id: str | None) -> bool:
    """Whether a bearer SubjectConfirmation names exactly our ACS URL and the request answered.

    python3-saml has counted exactly one assertion in the whole document and checked its
    signature, so every node found here belongs to the assertion it verified.
    """
    path = "//saml:Assertion/saml:Subject/saml:SubjectConfirmation"
    for confirmation in OneLogin_Saml2_XML.query(_assertion_document(response), path):
        if confirmation.get("Method") != OneLogin_Saml2_Constants.CM_BEARER:
            continue
        data = confirmation.find("saml:SubjectConfirmationData", namespaces=OneLogin_Saml2_Constants.NSMAP)
        if data is not None and data.get("Recipient") == acs and data.get("InResponseTo") == request_id:
            return True
    return False


def _verified_content(
    response: OneLogin_Saml2_Response,
) -> tuple[dict[str, list[str]], str | None, str | None, datetime]:
    try:
        response.get_attributes()  # python3-saml's own checks (a repeated attribute name is refused)
        name_id, name_id_format = response.get_nameid(), response.get_nameid_format()
    except Exception:
        raise LoginRefused(Reason.INVALID_CLAIM) from None
    not_on_or_after = response.get_assertion_not_on_or_after()
    if not not_on_or_after:
        raise LoginRefused(Reason.INVALID_RESPONSE)  # a bearer assertion without an end is refused
    expires_at = datetime.fromtimestamp(not_on_or_after, tz=dt_timezone.utc)
    skew = timedelta(seconds=sso_settings.SSO_CLOCK_SKEW)
    return _attribute_values(response), name_id, name_id_format, expires_at + skew


def _attribute_values(response: OneLogin_Saml2_Response) -> dict[str, list[str]]:
    """Each attribute's values exactly as the assertion holds them.

    python3-saml's ``get_attributes`` strips every value with ``str.strip``, which removes
    Unicode spaces too (a no-break space around an email would vanish before the email rule
    sees it), so the values are read here, from the one assertion it verified.
    """
    values: dict[str, list[str]] = {}
    path = "//saml:Assertion/saml:AttributeStatement/saml:Attribute"
    for attribute in OneLogin_Saml2_XML.query(_assertion_document(response), path):
        found = values.setdefault(str(attribute.get("Name")), [])
        for value in attribute.findall("saml:AttributeValue", namespaces=OneLogin_Saml2_Constants.NSMAP):
            if len(value):  # an element inside a value: no name or email is shaped like that
                raise LoginRefused(Reason.INVALID_CLAIM)
            found.append(OneLogin_Saml2_XML.element_text(value) or "")
    return values


def _assertion_document(response: OneLogin_Saml2_Response) -> Any:
    """The document holding the verified assertion (decrypted when it came encrypted)."""
    return response.decrypted_document if response.encrypted else response.document


def _spend(
    request: HttpRequest,
    request_id: str | None,
    response: OneLogin_Saml2_Response,
    entity_id: str,
    expires_at: datetime,
) -> None:
    """Spend the request answered and the assertion once on every replica (the session is a
    cookie: an old copy of it would otherwise answer the same request twice)."""
    assertion_id = response.get_assertion_id()
    if not assertion_id:
        raise LoginRefused(Reason.INVALID_RESPONSE)
    if request_id is not None:
        pending = _pending(request)
        pending.pop(request_id, None)
        request.session[PENDING_KEY] = pending
        request_expiry = timezone.now() + timedelta(seconds=REQUEST_LIFETIME_SECONDS)
        if not spend_once(_key("saml-request", entity_id, request_id), user_id=0, expires_at=request_expiry):
            raise LoginRefused(Reason.REPLAYED)
    if not spend_once(_key("saml-assertion", entity_id, assertion_id), user_id=0, expires_at=expires_at):
        raise LoginRefused(Reason.REPLAYED)


def _key(kind: str, entity_id: str, value: str) -> str:
    digest = hashlib.sha256(f"{entity_id}\n{value}".encode()).hexdigest()
    return f"{kind}:{digest}"[:64]
