"""Label Studio's URLconf with the SSO routes in front of it.

``api/sso/`` is the token API (the 6.x path); ``sso/oidc/`` the OpenID Connect sign-in;
``sso/saml/`` the SAML 2.0 sign-in;
``scim/v2/`` SCIM 2.0 provisioning; ``logout`` and ``user/signup/`` wrap Label Studio's own
views (the provider's logout after Label Studio's; sign-up closed while SSO_PASSWORD_LOGIN
is false).
"""

from core.urls import urlpatterns as label_studio_urlpatterns
from django.urls import include, path, re_path

from label_studio_sso.oidc.logout import logout_view
from label_studio_sso.password_login import signup_view

urlpatterns = [
    path("api/sso/", include("label_studio_sso.urls")),
    path("sso/oidc/", include("label_studio_sso.oidc.urls")),
    path("sso/saml/", include("label_studio_sso.saml.urls")),
    path("scim/v2/", include("label_studio_sso.scim.urls")),
    re_path(r"^logout/?$", logout_view),
    path("user/signup/", signup_view),
    *label_studio_urlpatterns,
]

# Database outages answer 503 (JSON under /api/) instead of 500; other errors keep Django's 500.
handler500 = "label_studio_sso.guards.outage.server_error"
