"""gunicorn settings for Label Studio + SSO (``gunicorn -c docker/gunicorn.conf.py core.wsgi``).

Read from the environment at start: PORT (default 8080), WEB_CONCURRENCY (workers,
default 2), GUNICORN_TIMEOUT (seconds, default 120). The access log records the path
without its query string: a login token in ``?token=`` must never reach a log.
"""

import os

bind = f"0.0.0.0:{int(os.environ.get('PORT', '8080'))}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
graceful_timeout = 30
control_socket_disable = True  # two servers on one machine must not share ~/.gunicorn

accesslog = "-"
errorlog = "-"
# %(U)s is the path without the query string; %(r)s (the full request line) would log tokens.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(D)sus "%(a)s"'
