"""Demo data for the demo portal, made on start when LSSO_DEMO_DATA=true. Idempotent.

alice and bob are members of the first organization, carol is deactivated (the portal
shows Label Studio refusing her), and "Demo project" is the portal's deep-link target.
"""

import django

django.setup()

from organizations.models import Organization  # noqa: E402
from projects.models import Project  # noqa: E402
from users.models import User  # noqa: E402

organization = Organization.objects.order_by("pk").first()
owner = organization.created_by
for email, active in (("alice@example.com", True), ("bob@example.com", True), ("carol@example.com", False)):
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email=email, password=None)
        user.is_active = active
        user.active_organization = organization
        user.save()
        organization.add_user(user)
if not Project.objects.filter(title="Demo project", organization=organization).exists():
    Project.objects.create(title="Demo project", organization=organization, created_by=owner)
