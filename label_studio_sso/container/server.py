"""What the image's server runs with, read once from the validated environment.

gunicorn's settings (``docker/serve.py`` hands them to gunicorn's ``BaseApplication``;
``docker/gunicorn.conf.py`` gives the same ones to a ``gunicorn -c`` run by hand) and the
URL the healthcheck asks come from here, so the bind, the port and TLS cannot disagree.

Workers are gunicorn's threaded workers, each accepting only as many connections as it
has threads, so a connection never queues behind a busy worker while another has a free
thread. A connection that sends nothing is closed after gunicorn's five-second wait (the
sync workers waited on it until it closed: a browser's two unused preconnects stopped the
server). A client that starts a request and never finishes it holds its thread until it
disconnects; against that, only a buffering proxy in front helps.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from .environment import image_settings

# The access log records the path without its query string (%(U)s, never %(r)s): a login
# token in ``?token=`` must never reach a log.
ACCESS_LOG_FORMAT = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(D)sus "%(a)s" worker=%(p)s'
# How long a stopping server finishes the requests it has (SIGTERM); Kubernetes must wait
# longer than this before it kills the pod (terminationGracePeriodSeconds).
GRACEFUL_TIMEOUT_SECONDS = 30


def _host_and_port(address: ipaddress.IPv4Address | ipaddress.IPv6Address, port: int) -> str:
    """``host:port`` with an IPv6 address in brackets, as both URLs and gunicorn want it."""
    return f"[{address}]:{port}" if address.version == 6 else f"{address}:{port}"


def bind_address(environ: Mapping[str, str]) -> str:
    """``LISTEN_ADDRESS`` and ``PORT`` as gunicorn binds them: ``[::]:8080`` for IPv6."""
    settings = image_settings(environ)
    return _host_and_port(ipaddress.ip_address(settings["LISTEN_ADDRESS"]), settings["PORT"])


def health_url(environ: Mapping[str, str]) -> str:
    """Where the healthcheck finds this server: its own address (loopback for a wildcard)."""
    settings = image_settings(environ)
    address = ipaddress.ip_address(settings["LISTEN_ADDRESS"])
    if address.is_unspecified:
        address = ipaddress.ip_address("::1" if address.version == 6 else "127.0.0.1")
    scheme = "https" if environ.get("TLS_CERT_FILE") else "http"
    return f"{scheme}://{_host_and_port(address, settings['PORT'])}/health"


def gunicorn_settings(environ: Mapping[str, str]) -> dict[str, Any]:
    """Every gunicorn setting the image uses, by gunicorn's own setting names."""
    settings = image_settings(environ)
    return {
        "bind": [bind_address(environ)],
        "workers": settings["WEB_CONCURRENCY"],
        "worker_class": "gthread",
        "threads": settings["GUNICORN_THREADS"],
        "worker_connections": settings["GUNICORN_THREADS"],
        "keepalive": 0,  # one request per connection, as before; a proxy keeps its own
        "timeout": settings["GUNICORN_TIMEOUT"],
        "graceful_timeout": GRACEFUL_TIMEOUT_SECONDS,
        "control_socket_disable": True,  # two servers on one machine must not share ~/.gunicorn
        "accesslog": "-",
        "errorlog": "-",
        "access_log_format": ACCESS_LOG_FORMAT,
        # TLS, for cross-site embedding (SameSite=None cookies need HTTPS) without a proxy.
        "certfile": environ.get("TLS_CERT_FILE") or None,
        "keyfile": environ.get("TLS_KEY_FILE") or None,
    }
