"""Debian's nginx as an authenticating gateway: ``auth_request`` asks the gateway's identity check.

This is how oauth2-proxy, Authelia and Authentik's outposts sit in front of an application
with nginx: every request is first sent to the check (``/check`` of ``gateway.mjs``), a 401
ends it there, a 200 carries the identity in response headers that nginx copies onto the
proxied request, overwriting whatever the client sent under those names. nginx connects to
Label Studio from 127.0.0.2 (``proxy_bind``), the address the image is told to trust; a
client going straight to Label Studio comes from 127.0.0.1.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import requests
from sso_support import free_port

NGINX = "/usr/sbin/nginx"
GATEWAY_ADDRESS = "127.0.0.2"

CONFIG = """
daemon on;
worker_processes 1;
pid {directory}/nginx.pid;
error_log {directory}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log {directory}/access.log;
    client_body_temp_path {directory}/body;
    proxy_temp_path {directory}/proxy;
    fastcgi_temp_path {directory}/fastcgi;
    uwsgi_temp_path {directory}/uwsgi;
    scgi_temp_path {directory}/scgi;
    server {{
        listen 127.0.0.1:{port};
        location = /_gateway_check {{
            internal;
            proxy_pass {gateway}/check;
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
        }}
        location /gateway/ {{
            proxy_pass {gateway};
        }}
        location / {{
            auth_request /_gateway_check;
            auth_request_set $gateway_email $upstream_http_x_auth_email;
            auth_request_set $gateway_name $upstream_http_x_auth_name;
            auth_request_set $gateway_groups $upstream_http_x_auth_groups;
            auth_request_set $gateway_assertion $upstream_http_x_auth_assertion;
            proxy_bind {gateway_address};
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Email $gateway_email;
            proxy_set_header X-Forwarded-Name $gateway_name;
            proxy_set_header X-Forwarded-Groups $gateway_groups;
            proxy_set_header X-Gateway-Assertion $gateway_assertion;
            proxy_pass http://127.0.0.1:{upstream_port};
        }}
    }}
}}
"""


class GatewayProxy:
    """nginx on a free port in front of Label Studio at ``upstream_port``, asking ``gateway``."""

    def __init__(self, directory: Path, *, gateway: str, upstream_port: int) -> None:
        self.directory = directory
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.config = directory / "nginx.conf"
        self.config.write_text(
            CONFIG.format(
                directory=directory,
                port=self.port,
                gateway=gateway,
                gateway_address=GATEWAY_ADDRESS,
                upstream_port=upstream_port,
            )
        )
        subprocess.run([NGINX, "-c", str(self.config), "-p", str(directory)], check=True, capture_output=True)
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(f"{self.url}/gateway/sign-out", timeout=5, allow_redirects=False)
                return
            except requests.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def stop(self) -> None:
        subprocess.run([NGINX, "-c", str(self.config), "-p", str(self.directory), "-s", "stop"],
                       capture_output=True)  # fmt: skip
