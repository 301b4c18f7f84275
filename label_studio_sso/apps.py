"""App configuration: registers the checks, the settings reload, session signals, login-token kinds."""

from django.apps import AppConfig
from django.core.signals import setting_changed


class LabelStudioSsoConfig(AppConfig):
    name = "label_studio_sso"
    verbose_name = "Label Studio SSO"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the checks)
        from .conf import reload_on_setting_changed
        from .login_tokens import register_kind
        from .portal.tokens import OWN_TOKENS
        from .portal_signed.tokens import PORTAL_SIGNED_TOKENS
        from .session_signals import connect

        connect()
        register_kind(PORTAL_SIGNED_TOKENS)  # asked first: it takes only asymmetric tokens
        register_kind(OWN_TOKENS)  # takes every other token, and refuses what is not its own

        setting_changed.connect(reload_on_setting_changed, dispatch_uid="label_studio_sso.conf.reload")
