"""HEALTHCHECK without curl: GET /health on this server must answer 200.

The URL follows LISTEN_ADDRESS, PORT and TLS, from the same place gunicorn's bind does.
"""

import os
import ssl
import sys
import urllib.request

from label_studio_sso.container.server import health_url

# Our own server, possibly with a self-signed certificate: the address is checked, not TLS.
context = ssl._create_unverified_context()  # noqa: S323
try:
    with urllib.request.urlopen(health_url(os.environ), timeout=4, context=context) as response:  # noqa: S310
        sys.exit(0 if response.status == 200 else 1)
except (OSError, ValueError):
    sys.exit(1)
