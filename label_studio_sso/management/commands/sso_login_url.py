"""``manage.py sso_login_url EMAIL [--next PATH]``: a login URL for an operator to hand out."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ... import audit
from ...accounts import find_user_by_email, refusal_reason
from ...errors import ApiError, UserRefused
from ...http import is_safe_relative_path
from ...origins import origin_of, public_origin
from ...portal.links import login_url
from ...portal.tokens import issue_login_token


class Command(BaseCommand):
    help = "Print a single-use login URL for the Label Studio user with this email."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")
        parser.add_argument(
            "--next", default=None, help="a path on this site to land on, e.g. /projects/3/data"
        )
        parser.add_argument(
            "--base-url",
            default=None,
            help="Label Studio's public URL (default: LABEL_STUDIO_HOST, else http://localhost:8080)",
        )

    def handle(self, *args: Any, email: str, next: str | None, base_url: str | None, **options: Any) -> None:
        origin = origin_of(base_url) if base_url else public_origin()
        if origin is None:
            raise CommandError("--base-url must be an http(s) URL such as https://labelstudio.example.com")
        if next is not None and not is_safe_relative_path(next):
            raise CommandError("--next must be a path on this site starting with /, such as /projects/3/data")
        try:
            user = find_user_by_email(email)
            reason = refusal_reason(user)
            if reason is not None:
                raise UserRefused(reason)
        except UserRefused as refused:
            raise CommandError(ApiError.for_user_refusal(refused.reason).sentence) from None
        issued = issue_login_token(user.pk, user.email)
        audit.token_issued(issuer_id=None, user_id=user.pk, jti=issued.jti, expires_in=issued.expires_in)
        self.stdout.write(login_url(origin, issued.token, next))
