"""Demo data for scripts/run: an admin with an API token, alice and bob. Idempotent."""

import os
import secrets
from pathlib import Path

import django

django.setup()

from organizations.functions import create_organization  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402
from users.models import User  # noqa: E402

admin = User.objects.filter(email="admin@example.com").first()
if admin is None:
    admin = User.objects.create_user(email="admin@example.com", password="demo-admin-password")
    admin.is_staff = admin.is_superuser = True
    organization = create_organization(title="Demo", created_by=admin, legacy_api_tokens_enabled=True)
    admin.active_organization = organization
    admin.save()
    for email in ("alice@example.com", "bob@example.com"):
        user = User.objects.create_user(email=email, password=secrets.token_urlsafe(24))
        user.active_organization = organization
        user.save()
        organization.add_user(user)
token_file = Path(os.environ["LABEL_STUDIO_BASE_DATA_DIR"]) / "demo-admin-token"
token_file.write_text(Token.objects.get_or_create(user=admin)[0].key)
token_file.chmod(0o600)
