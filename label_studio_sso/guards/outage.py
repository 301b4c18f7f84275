"""Answer 503, not 500, when the database is unreachable.

Label Studio's own middleware queries the database on every request, before any view
runs, so a database outage surfaces as an uncaught exception whatever the endpoint.
Django hands uncaught exceptions to the URLconf's ``handler500``; the settings overlay
points it here. Anything that is not a database error keeps Django's normal 500.
"""

from __future__ import annotations

import logging
import sys

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.views.defaults import server_error as django_server_error

from ..errors import RETRY_AFTER_SECONDS, ApiError, ErrorCode, Reason, error_response
from ..http import mark_token_response

logger = logging.getLogger(__name__)


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: a 503 with Retry-After for database errors, Django's 500 otherwise."""
    error = sys.exc_info()[1]
    if not isinstance(error, DatabaseError):
        return django_server_error(request)
    logger.warning("database unavailable while serving %s (%s)", request.path[:200], type(error).__name__)
    error = ApiError(ErrorCode.DATABASE_UNAVAILABLE)
    if request.path.startswith("/api/") or request.path_info.startswith("/api/"):
        response: HttpResponse = error_response(error)
    else:
        response = HttpResponse(f"{error.sentence}\n", status=error.status, content_type="text/plain")
        response["Retry-After"] = RETRY_AFTER_SECONDS
    # The request may carry a login token (?token=, the cookie): nothing of it is cached or
    # passed on in a Referer, as for every response that carries or consumes one.
    return mark_token_response(response, Reason.DATABASE_UNAVAILABLE)
