"""gunicorn settings for Label Studio + SSO, for a gunicorn started by hand:

    gunicorn -c docker/gunicorn.conf.py --chdir <label_studio package dir> core.wsgi:application

The image does not use this file: ``docker/serve.py`` gives gunicorn the same settings, from
the same place (``label_studio_sso.container.server``), which reads LISTEN_ADDRESS, PORT,
WEB_CONCURRENCY, GUNICORN_THREADS, GUNICORN_TIMEOUT, TLS_CERT_FILE and TLS_KEY_FILE.
"""

import os

from label_studio_sso.container.server import gunicorn_settings

globals().update(gunicorn_settings(os.environ))
