"""Demo data for scripts/run: alice and bob in the first organization, and the admin's token.

Run inside Label Studio (the container, or a local venv) with the overlay's settings.
Idempotent: existing users are left alone. The admin comes from LABEL_STUDIO_USERNAME.
"""

import os
import secrets
from pathlib import Path

import django

django.setup()

from organizations.models import Organization  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402
from users.models import User  # noqa: E402

admin = User.objects.get(email=os.environ["LABEL_STUDIO_USERNAME"])
organization = Organization.objects.first()
for email in ("alice@example.com", "bob@example.com"):
    if not User.objects.filter(email=email).exists():
        user = User.objects.create_user(email=email, password=secrets.token_urlsafe(24))
        user.active_organization = organization
        user.save()
        organization.add_user(user)
token_file = Path(os.environ["LABEL_STUDIO_BASE_DATA_DIR"]) / "demo-admin-token"
token_file.write_text(Token.objects.get_or_create(user=admin)[0].key)
token_file.chmod(0o600)
