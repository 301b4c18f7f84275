"""App configuration: registers the system checks, the settings reload and the session signals."""

from django.apps import AppConfig
from django.core.signals import setting_changed


class LabelStudioSsoConfig(AppConfig):
    name = "label_studio_sso"
    verbose_name = "Label Studio SSO"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the checks)
        from .conf import reload_on_setting_changed
        from .session_signals import connect

        connect()

        setting_changed.connect(reload_on_setting_changed, dispatch_uid="label_studio_sso.conf.reload")
