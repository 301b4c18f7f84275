"""Debian's nginx in front of pods, configured as a Kubernetes ingress is by default.

Only what ingress-nginx does out of the box: round robin over the Service's ready
endpoints, a retry on another endpoint when a connection fails (``proxy_next_upstream
error timeout``, nginx's default, which never retries a POST), and a reload whenever the
endpoints change. Nothing that would hide a dropped request.
"""

from __future__ import annotations

from pathlib import Path

from tests.e2e.support.nginx import Nginx

SERVER = """
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
"""


class LoadBalancer(Nginx):
    def __init__(self, directory: Path, endpoints: list[str]) -> None:
        self.endpoints = endpoints
        super().__init__(directory)

    def http_block(self) -> str:
        servers = "\n".join(f"        server {endpoint};" for endpoint in self.endpoints)
        return SERVER.format(servers=servers, port=self.port)

    def set_endpoints(self, endpoints: list[str]) -> None:
        """The Service's ready endpoints changed: a graceful reload, as the ingress does."""
        self.endpoints = endpoints
        self.reload()
