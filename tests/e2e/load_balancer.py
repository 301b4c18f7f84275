"""Debian's nginx in front of pods, configured as a Kubernetes ingress is by default.

Only what ingress-nginx does out of the box: round robin over the Service's ready
endpoints, a retry on another endpoint when a connection fails (``proxy_next_upstream
error timeout``, nginx's default, which never retries a POST), and a reload whenever the
endpoints change. Nothing that would hide a dropped request.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import requests
from sso_support import free_port

NGINX = "/usr/sbin/nginx"

CONFIG = """
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
    upstream service {{
{servers}
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://service;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        }}
    }}
}}
"""


class LoadBalancer:
    def __init__(self, directory: Path, endpoints: list[str]) -> None:
        self.directory = directory
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.config = directory / "nginx.conf"
        self._write(endpoints)
        subprocess.run([NGINX, "-c", str(self.config), "-p", str(directory)], check=True, capture_output=True)
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(f"{self.url}/health", timeout=5)
                return
            except requests.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def _write(self, endpoints: list[str]) -> None:
        servers = "\n".join(f"        server {endpoint};" for endpoint in endpoints)
        self.config.write_text(CONFIG.format(directory=self.directory, servers=servers, port=self.port))

    def set_endpoints(self, endpoints: list[str]) -> None:
        """The Service's ready endpoints changed: a graceful reload, as the ingress does."""
        self._write(endpoints)
        subprocess.run([NGINX, "-c", str(self.config), "-p", str(self.directory), "-s", "reload"], check=True,
                       capture_output=True)  # fmt: skip

    def stop(self) -> None:
        subprocess.run([NGINX, "-c", str(self.config), "-p", str(self.directory), "-s", "stop"],
                       capture_output=True)  # fmt: skip
