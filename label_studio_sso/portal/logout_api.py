"""``POST /api/sso/logout``: a portal ends every Label Studio session of one of its users.

The portal's sign-out, a lost laptop, a shared computer: the user's sessions in every
browser, on every replica, are refused from their next request (``sessions``). Same
caller rules as the token API, with its own rate-limit history.
"""

from __future__ import annotations

from rest_framework.request import Request
from rest_framework.response import Response

from .. import audit
from ..accounts import user_for_issuer
from ..errors import ApiError, UserRefused
from ..sessions import end_every_session
from .api import PortalApiView
from .api_access import IssuerLogoutRateThrottle
from .token_request import parse_logout_request


class LogoutView(PortalApiView):
    """End every session of the user with ``email``, if the caller may reach that user."""

    throttle_classes = (IssuerLogoutRateThrottle,)
    refused = staticmethod(audit.logout_refused)

    def post(self, request: Request) -> Response:
        email = parse_logout_request(request)
        try:
            user = user_for_issuer(request.user, email, to_log_in=False)
        except UserRefused as refused:
            raise ApiError.for_user_refusal(refused.reason) from None
        ended_at = end_every_session(user)
        audit.sessions_ended(user_id=user.pk, cause="logout-api", issuer_id=request.user.pk)
        ended = ended_at.isoformat().replace("+00:00", "Z")
        return Response({"user_id": user.pk, "sessions_ended_at": ended})
