"""A logging filter that removes login tokens (and OpenID codes) from log lines written by others.

Our own code never logs a token. This filter is defence in depth for lines other
code writes: Django's development server logs full request lines, query strings
included, and a misbehaving client may put a token anywhere.
"""

from __future__ import annotations

import logging
import re

REDACTED = "[redacted]"
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
# Login tokens, and what an OpenID Connect callback or logout carries in a URL.
_TOKEN_PARAM = re.compile(
    r"([?&;](?:token|ls_auth_token|code|state|id_token_hint|logout_token)=)[^&\s\"']+", re.IGNORECASE
)


def redact(text: str) -> str:
    """``text`` with JWT-shaped strings and token parameters replaced."""
    return _TOKEN_PARAM.sub(r"\1" + REDACTED, _JWT.sub(REDACTED, text))


class RedactTokensFilter(logging.Filter):
    """Rewrites a record's message (with its arguments merged in) when it holds a token."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is not ours to break
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
