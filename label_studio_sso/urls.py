"""URLs of the SSO endpoints (the 6.x path); Label Studio's URLconf includes them under ``api/sso/``."""

from django.urls import re_path

from .portal.api import LoginTokenView
from .portal.confirmation import confirm_view
from .portal.login_view import login_view
from .portal.logout_api import LogoutView

app_name = "label_studio_sso"

urlpatterns = [
    re_path(r"^token/?$", LoginTokenView.as_view(), name="token"),
    re_path(r"^login/?$", login_view, name="login"),
    re_path(r"^confirm/?$", confirm_view, name="confirm"),
    re_path(r"^logout/?$", LogoutView.as_view(), name="logout"),
]
