"""Debian's nginx as an authenticating gateway: ``auth_request`` asks the gateway's identity check.

This is how oauth2-proxy, Authelia and Authentik's outposts sit in front of an application
with nginx: every request is first sent to the check (``/check`` of ``gateway.mjs``), a 401
ends it there, a 200 carries the identity in response headers that nginx copies onto the
proxied request, overwriting whatever the client sent under those names. nginx connects to
Label Studio from 127.0.0.2 (``proxy_bind``), the address the image is told to trust; a
client going straight to Label Studio comes from 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from tests.e2e.support.nginx import Nginx

GATEWAY_ADDRESS = "127.0.0.2"

SERVER = """
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
"""


class GatewayProxy(Nginx):
    """nginx in front of Label Studio at ``upstream_port``, asking ``gateway`` on every request."""

    probe = "/gateway/sign-out"

    def __init__(self, directory: Path, *, gateway: str, upstream_port: int) -> None:
        self.gateway, self.upstream_port = gateway, upstream_port
        super().__init__(directory)

    def http_block(self) -> str:
        return SERVER.format(
            port=self.port,
            gateway=self.gateway,
            gateway_address=GATEWAY_ADDRESS,
            upstream_port=self.upstream_port,
        )


@contextmanager
def gateway_in_front(directory: Path, *, gateway: str, upstream_port: int) -> Iterator[GatewayProxy]:
    """A GatewayProxy in ``directory`` (made here), stopped on exit."""
    directory.mkdir()
    proxy = GatewayProxy(directory, gateway=gateway, upstream_port=upstream_port)
    try:
        yield proxy
    finally:
        proxy.stop()


def signed_in(
    proxy: GatewayProxy, user: str, next_path: str = "/api/current-user/whoami"
) -> requests.Session:
    """A browser that signed in at the gateway as ``user`` (an account of tests.support.gateway)."""
    browser = requests.Session()
    browser.trust_env = False
    response = browser.get(
        f"{proxy.url}/gateway/sign-in", params={"user": user, "next": next_path}, timeout=60
    )
    assert response.status_code == 200, response.text[:300]
    return browser
