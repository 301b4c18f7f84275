"""``manage.py purge_sso_tokens``: delete every expired redeemed-token record now.

Logins already purge in small batches; this is for operators who want it all at once.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from ...portal.redemption import purge_expired


class Command(BaseCommand):
    help = "Delete redeemed SSO login-token records whose tokens have expired."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"deleted {purge_expired()} expired redeemed-token records")
