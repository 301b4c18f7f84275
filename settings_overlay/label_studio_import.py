"""Import Label Studio's settings module from inside another settings module.

Label Studio's ``core.settings.label_studio`` reads ``django.conf.settings`` while it is
still being imported (its Sentry initialisation). If DJANGO_SETTINGS_MODULE names our
overlay at that moment, Django snapshots the half-imported overlay and fails. So, for
the duration of the import, DJANGO_SETTINGS_MODULE names Label Studio's module; then
the variable is restored and the settings snapshot Django took is forgotten.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager

from label_studio_sso.conf import label_studio_env
from label_studio_sso.releases import keep_version_check_off

LABEL_STUDIO_SETTINGS = "core.settings.label_studio"
# Environment defaults that keep a login bridge from phoning home: Label Studio's
# built-in Sentry DSNs, its PyPI version check and its analytics (which send request
# and response bodies, login tokens included, off-site). Each can be set back by env.
QUIET_DEFAULTS = {
    "SENTRY_DSN": "",
    "FRONTEND_SENTRY_DSN": "",
    "LATEST_VERSION_CHECK": "false",
    "COLLECT_ANALYTICS": "false",
}


def label_studio_directory() -> str:
    """Label Studio's package directory, which its code expects on sys.path."""
    import label_studio

    return os.path.dirname(os.path.abspath(label_studio.__file__))


def apply_quiet_defaults(environ: MutableMapping[str, str] = os.environ) -> None:
    """Set each quiet default unless any spelling Label Studio reads is already set."""
    for name, value in QUIET_DEFAULTS.items():
        if label_studio_env(environ, name) is None:
            environ[name] = value


@contextmanager
def label_studio_settings_importable() -> Iterator[None]:
    """Within this block, ``from core.settings.label_studio import *`` is safe."""
    from django.conf import settings
    from django.utils.functional import empty

    directory = label_studio_directory()
    if directory not in sys.path:
        sys.path.insert(0, directory)
    settings_were_unset = settings._wrapped is empty
    own_module = os.environ.get("DJANGO_SETTINGS_MODULE")
    os.environ["DJANGO_SETTINGS_MODULE"] = LABEL_STUDIO_SETTINGS
    try:
        keep_version_check_off()
        yield
    finally:
        if own_module is None:
            os.environ.pop("DJANGO_SETTINGS_MODULE", None)
        else:
            os.environ["DJANGO_SETTINGS_MODULE"] = own_module
        if settings_were_unset:
            settings._wrapped = empty
