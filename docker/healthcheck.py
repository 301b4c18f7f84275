"""HEALTHCHECK without curl: GET /health on the local server must answer 200."""

import os
import ssl
import sys
import urllib.request

scheme = "https" if os.environ.get("TLS_CERT_FILE") else "http"
url = f"{scheme}://127.0.0.1:{int(os.environ.get('PORT', '8080'))}/health"
# Our own server over loopback, possibly with a self-signed certificate.
context = ssl._create_unverified_context()  # noqa: S323
try:
    with urllib.request.urlopen(url, timeout=4, context=context) as response:  # noqa: S310  (fixed local URL)
        sys.exit(0 if response.status == 200 else 1)
except OSError:
    sys.exit(1)
