"""The configuration reference (docs/configuration.md), written from the option tables.

``python -m label_studio_sso.reference`` prints it for the installed version; the tests fail
when the committed page differs, so the manual cannot drift from the code.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .conf import OPTIONS, Option
from .container.environment import IMAGE_OPTIONS

# Label Studio's own secrets the image reads from NAME_FILE too (docker/entrypoint.sh).
LABEL_STUDIO_FILE_SECRETS = (
    "SECRET_KEY",
    "POSTGRE_PASSWORD",
    "LABEL_STUDIO_PASSWORD",
    "LABEL_STUDIO_USER_TOKEN",
)
FILE_NOT_SECRET = (
    "SSO_ISSUER_PUBLIC_KEYS",
    "SSO_SAML_SP_CERT",
)  # long (PEM keys), so read from a file just the same

INTRODUCTION = """\
# Configuration reference

Every setting of label-studio-sso. This page is generated from the option tables in
`label_studio_sso/conf.py` and `label_studio_sso/container/environment.py`
(`python -m label_studio_sso.reference`); a test fails when it differs from them.

**Where they are read.** The first table's settings are Django settings and, with the
settings overlay or the image, environment variables of the same name. The second table's
are read by the image's start-up only.

**A bad value stops start-up** with one line naming it, for example
`SSO_TOKEN_EXPIRY='5' is not allowed: whole seconds from 10 to 86400`. The image exits
with status 64, and `manage.py check` reports the same as `label_studio_sso.E001`. The
value of a secret is never shown, only its length: `'****' (11 chars)`.

**Secrets from files.** In the image, every setting marked secret can be given as a file
instead: `NAME_FILE=/path` (a Docker or Kubernetes secret). So can
`{file_not_secret}` and Label Studio's own {label_studio}. Setting both `NAME` and
`NAME_FILE` is an error.

**Settings that work only together** are refused the same way, at start and by
`manage.py check` (E009, E012 to E014, E018 to E020): an OpenID issuer without its client id and
secret, a gateway header without `SSO_TRUSTED_PROXIES`, an assertion header without its
key URL, audience and issuer, portal keys without `SSO_ISSUER` and `SSO_ISSUER_AUDIENCE`
(or given both as a URL and as keys), `SSO_PROXY_REQUIRED` without a gateway, SAML metadata
given both as a URL and as a file, and a SAML key without its certificate (or not the key of
the first one).
"""


def shown_default(value: Any) -> str:
    """A default as a reader would write it in the environment."""
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return "`true`" if value else "`false`"
    if isinstance(value, tuple | list | frozenset):
        return "`" + ",".join(str(item) for item in value) + "`" if value else "empty"
    if value == "":
        return "empty"
    return f"`{value}`"


def table(options: Iterable[Option]) -> str:
    """A Markdown table: name, default, allowed values, secret or not, what it does."""
    rows = ["| name | default | allowed | secret | what it does |", "|---|---|---|---|---|"]
    for option in options:
        cells = (
            f"`{option.name}`",
            shown_default(option.default),
            option.allowed,
            "yes" if option.secret else "",
            option.summary,
        )
        rows.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(rows)


def reference() -> str:
    """The whole page."""
    introduction = INTRODUCTION.format(
        file_not_secret="`, `".join(FILE_NOT_SECRET),
        label_studio=", ".join(f"`{name}`" for name in LABEL_STUDIO_FILE_SECRETS),
    )
    return (
        f"{introduction}\n## Django settings and environment variables\n\n{table(OPTIONS)}\n\n"
        f"## The image only\n\n{table(IMAGE_OPTIONS)}\n"
    )


if __name__ == "__main__":
    import sys

    sys.stdout.write(reference())
