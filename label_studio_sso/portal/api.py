"""``POST /api/sso/token``: a portal asks for a single-use login token for one of its users."""

from __future__ import annotations

from typing import Any

from rest_framework.authentication import BaseAuthentication
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import audit
from ..errors import ApiError, UserRefused
from ..guards.body_limit import API_BODY_LIMIT
from ..http import mark_token_response
from ..origins import public_origin
from .api_access import IsSsoIssuer, IssuerRateThrottle, api_credentials_only
from .api_errors import token_api_exception_handler
from .links import login_url
from .token_request import parse_token_request
from .token_users import user_for_token_request
from .tokens import issue_login_token


class JsonOnly(BaseContentNegotiation):
    """The API always answers JSON, whatever the Accept header asks for (never 406)."""

    def select_parser(self, request: Request, parsers: Any) -> None:
        return None

    def select_renderer(self, request: Request, renderers: Any, format_suffix: Any = None) -> Any:
        return renderers[0], renderers[0].media_type


class PortalApiView(APIView):
    """What the portal's APIs share: who may call, how often, JSON only, never cached."""

    permission_classes = (IsSsoIssuer,)
    throttle_classes = (IssuerRateThrottle,)
    renderer_classes = (JSONRenderer,)
    parser_classes = ()
    content_negotiation_class = JsonOnly
    refused = staticmethod(audit.token_refused)  # the audit event of this API's refusals
    body_limit = API_BODY_LIMIT  # refused unread by the body-limit guard

    def get_authenticators(self) -> list[BaseAuthentication]:
        return api_credentials_only(super().get_authenticators())

    def get_exception_handler(self) -> Any:
        return token_api_exception_handler

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        return mark_token_response(super().finalize_response(request, response, *args, **kwargs))


class LoginTokenView(PortalApiView):
    """Sign a login token for the user with ``email``, if the caller may."""

    def post(self, request: Request) -> Response:
        body = parse_token_request(request)
        try:
            user = user_for_token_request(request.user, body)
        except UserRefused as refused:
            raise ApiError.for_user_refusal(refused.reason) from None
        issued = issue_login_token(user.pk, user.email)
        audit.token_issued(
            issuer_id=request.user.pk, user_id=user.pk, jti=issued.jti, expires_in=issued.expires_in
        )
        return Response(
            {
                "token": issued.token,
                "expires_in": issued.expires_in,
                "login_url": login_url(public_origin(request), issued.token, body.next),
            }
        )
