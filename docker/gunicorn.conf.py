"""gunicorn settings for Label Studio + SSO (``gunicorn -c docker/gunicorn.conf.py core.wsgi``).

Read from the environment at start: LISTEN_ADDRESS (default 0.0.0.0), PORT (default
8080), WEB_CONCURRENCY (workers, default 2), GUNICORN_TIMEOUT (seconds, default 120),
TLS_CERT_FILE and TLS_KEY_FILE (serve HTTPS);
the image's entrypoint has validated them already. The access log records the path
without its query string: a login token in ``?token=`` must never reach a log.
"""

import os

bind = f"{os.environ.get('LISTEN_ADDRESS', '0.0.0.0')}:{int(os.environ.get('PORT', '8080'))}"  # noqa: S104
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
graceful_timeout = 30
control_socket_disable = True  # two servers on one machine must not share ~/.gunicorn

accesslog = "-"
errorlog = "-"
# %(U)s is the path without the query string; %(r)s (the full request line) would log tokens.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(D)sus "%(a)s" worker=%(p)s'

# TLS, for cross-site embedding (SameSite=None cookies need HTTPS) without a proxy in front.
certfile = os.environ.get("TLS_CERT_FILE") or None
keyfile = os.environ.get("TLS_KEY_FILE") or None
