"""The SAML routes; the settings overlay includes them under ``sso/saml/``."""

from django.urls import path

from .views import acs_view, login_view, metadata_view

app_name = "label_studio_sso_saml"

urlpatterns = [
    path("login/", login_view, name="login"),
    path("acs/", acs_view, name="acs"),
    path("metadata/", metadata_view, name="metadata"),
]
