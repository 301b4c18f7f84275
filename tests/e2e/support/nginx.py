"""Debian's nginx run by the tests as an unprivileged daemon in a directory of its own."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import requests

from tests.support.processes import free_port

NGINX = "/usr/sbin/nginx"

MAIN = """
daemon on;
worker_processes 1;
pid {directory}/nginx.pid;
error_log {directory}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log {directory}/access.log;
    client_body_temp_path {directory}/body;
    proxy_temp_path {directory}/proxy;
    fastcgi_temp_path {directory}/fastcgi;
    uwsgi_temp_path {directory}/uwsgi;
    scgi_temp_path {directory}/scgi;
{http}
}}
"""


class Nginx:
    """nginx on a free port of 127.0.0.1 with the ``http`` block a subclass writes (``http_block``)."""

    probe = "/health"  # answered (with any status) once nginx serves

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.config = directory / "nginx.conf"
        self._write()
        self._nginx()
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(f"{self.url}{self.probe}", timeout=5, allow_redirects=False)
                return
            except requests.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def http_block(self) -> str:
        raise NotImplementedError

    def _write(self) -> None:
        self.config.write_text(MAIN.format(directory=self.directory, http=self.http_block()))

    def _nginx(self, *signal: str, check: bool = True) -> None:
        subprocess.run(
            [NGINX, "-c", str(self.config), "-p", str(self.directory), *signal],
            check=check,
            capture_output=True,
        )

    def reload(self) -> None:
        """Rewrite the configuration and reload it gracefully, as an ingress controller does."""
        self._write()
        self._nginx("-s", "reload")

    def stop(self) -> None:
        self._nginx("-s", "stop", check=False)
