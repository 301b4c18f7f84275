"""HEALTHCHECK without curl: GET /health on the local server must answer 200."""

import os
import sys
import urllib.request

url = f"http://127.0.0.1:{int(os.environ.get('PORT', '8080'))}/health"
try:
    with urllib.request.urlopen(url, timeout=4) as response:
        sys.exit(0 if response.status == 200 else 1)
except OSError:
    sys.exit(1)
