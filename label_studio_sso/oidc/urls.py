"""The OpenID Connect routes; the settings overlay includes them under ``sso/oidc/``."""

from django.urls import path

from .backchannel import backchannel_logout_view
from .views import callback_view, login_view

app_name = "label_studio_sso_oidc"

urlpatterns = [
    path("login/", login_view, name="login"),
    path("callback/", callback_view, name="callback"),
    path("backchannel-logout/", backchannel_logout_view, name="backchannel-logout"),
]
