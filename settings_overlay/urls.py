"""Label Studio's URLconf with ``api/sso/`` in front of it."""

from core.urls import urlpatterns as label_studio_urlpatterns
from django.urls import include, path

urlpatterns = [
    path("api/sso/", include("label_studio_sso.urls")),
    *label_studio_urlpatterns,
]

# Database outages answer 503 (JSON under /api/) instead of 500; other errors keep Django's 500.
handler500 = "label_studio_sso.guards.outage.server_error"
