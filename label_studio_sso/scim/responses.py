"""SCIM answers: ``application/scim+json`` bodies, and the one error body (RFC 7644 §3.12).

An error's ``detail`` is a sentence written here for its status and ``scimType``, with at
most the name of the attribute at fault: never a value the client sent, so no part of a
payload (an email, a token, a filter) comes back in an answer or reaches a log.
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpResponse

from ..errors import ERRORS, ErrorCode

CONTENT_TYPE = "application/scim+json"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"

_BY_SCIM_TYPE = {
    "invalidFilter": "The filter is not valid, or uses an attribute or operator this service does not serve.",
    "tooMany": "The filter matches more results than this service returns at once.",
    "uniqueness": "Another resource already has this value; it must be unique.",
    "mutability": "This change is not allowed on this attribute, or not in the resource's current state.",
    "invalidSyntax": "The request body is not a valid SCIM message.",
    "invalidPath": "The PATCH path is not valid for this resource.",
    "noTarget": "The PATCH path selects nothing to change.",
    "invalidValue": "A value is missing or not valid for its attribute.",
    "invalidVers": "This SCIM version is not supported.",
    "sensitive": "This request would reveal sensitive data.",
}
_BY_STATUS = {
    400: "The request is not valid.",
    401: "Send the SCIM bearer token (SSO_SCIM_TOKEN) as Authorization: Bearer <token>.",
    403: "This operation is not allowed.",
    404: "No such resource.",
    405: "This method is not allowed on this endpoint.",
    409: "Another resource already has this value; it must be unique.",
    411: "Send the request body with a Content-Length.",
    413: "The request body is too large.",
    429: "Too many SCIM requests; retry after the time in Retry-After.",
    501: "This operation is not supported.",
    503: ERRORS[ErrorCode.DATABASE_UNAVAILABLE].sentence,
}


class ScimError(Exception):
    """A refusal we raise ourselves: a status, maybe a ``scimType``, and our own sentence."""

    def __init__(self, status: int, scim_type: str | None = None, detail: str | None = None) -> None:
        self.status = status
        self.scim_type = scim_type
        self.detail = detail or sentence(status, scim_type)
        super().__init__(self.detail)


def sentence(status: int, scim_type: str | None, attribute: str | None = None) -> str:
    """The detail for a status and scimType, naming the attribute at fault when known."""
    text = _BY_SCIM_TYPE.get(scim_type or "") or _BY_STATUS.get(status) or "The request was refused."
    return f"{text} (attribute: {attribute})" if attribute else text


def scim_json(payload: Any, status: int = 200, **headers: str) -> HttpResponse:
    """A SCIM body; never cached (it names people)."""
    response = HttpResponse(json.dumps(payload), status=status, content_type=CONTENT_TYPE)
    response["Cache-Control"] = "no-store"
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def error_json(error: ScimError, **headers: str) -> HttpResponse:
    """The SCIM error body for a refusal."""
    body: dict[str, Any] = {"schemas": [ERROR_SCHEMA], "status": str(error.status), "detail": error.detail}
    if error.scim_type:
        body["scimType"] = error.scim_type
    return scim_json(body, error.status, **headers)
