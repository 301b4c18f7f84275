"""Every label-studio-sso setting: its name, default, type and bound, in one place.

Django settings and environment variables go through the same parsers, so a value is
judged the same way whether it comes from ``settings.py``, the settings overlay or the
container entrypoint. Values are read lazily and re-read when Django's
``setting_changed`` signal fires, so ``override_settings`` works in tests.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from .algorithms import ASYMMETRIC_ALGORITHMS

RESERVED_CLAIMS = frozenset({"iss", "aud", "sub", "email", "iat", "nbf", "exp", "jti"})
MIN_KEY_BYTES = 32

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})
_COOKIE_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,64}")
_COOKIE_PATH = re.compile(r"/[!#$%&'()*+,\-./0-9:<=>?@A-Z\[\]^_`a-z{|}~]{0,255}")
_COOKIE_DOMAIN = re.compile(r"\.?[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?")
_PARAM_NAME = re.compile(r"[A-Za-z0-9_.\-]{1,64}")
_CLAIM_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_ORIGIN = re.compile(r"https?://(?:\*\.)?[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?(?::\d{1,5})?")
_DOMAIN = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")
MAX_GROUP_NAME = 200
_SCOPE = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]{1,100}")
_RATE = re.compile(r"\s*(\d{1,6})\s*/\s*(s|sec|second|m|min|minute|h|hour|d|day)\s*", re.IGNORECASE)


class InvalidSetting(ValueError):
    """A setting's value is outside what is allowed; the message never shows a secret."""

    def __init__(self, name: str, value: Any, allowed: str, *, secret: bool = False) -> None:
        self.name = name
        self.allowed = allowed
        shown = mask(value) if secret else _shorten(repr(value))
        super().__init__(f"{name}={shown} is not allowed: {allowed}")


def mask(value: Any) -> str:
    """Show that a secret is set, and how long it is, without any of its characters."""
    if value is None or value == "":
        return "''"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(mask(item) for item in value) + "]"
    return f"'****' ({len(str(value))} chars)"


def _shorten(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --- parsers: each takes a native value or a string and returns the typed value ----------


def _string(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError
    return value.strip()


def _name(pattern: re.Pattern[str]) -> Callable[[Any], str]:
    """A parser for a name that must match ``pattern``; empty switches the feature off."""

    def parse(value: Any) -> str:
        text = _string(value)
        if text and not pattern.fullmatch(text):
            raise ValueError
        return text

    return parse


def _cookie_path(value: Any) -> str:
    text = _string(value)
    if not _COOKIE_PATH.fullmatch(text) or ";" in text:
        raise ValueError
    return text


def _cookie_domain(value: Any) -> str | None:
    if value is None:
        return None
    text = _string(value)
    if not text:
        return None
    if not _COOKIE_DOMAIN.fullmatch(text):
        raise ValueError
    return text


def _claim_name(value: Any) -> str:
    text = _string(value)
    if not _CLAIM_NAME.fullmatch(text) or text in RESERVED_CLAIMS:
        raise ValueError
    return text


def integer_between(low: int, high: int) -> Callable[[Any], int]:
    """A parser for whole numbers from ``low`` to ``high``, as int or decimal digits."""

    def parse(value: Any) -> int:
        if isinstance(value, bool):
            raise TypeError
        if isinstance(value, str):
            text = value.strip()
            if not text.isascii() or not text.isdigit():
                raise ValueError
            value = int(text)
        if not isinstance(value, int) or not low <= value <= high:
            raise ValueError
        return value

    return parse


def one_of(*choices: str) -> Callable[[Any], str]:
    """A parser for one of ``choices``, case-insensitively."""

    def parse(value: Any) -> str:
        text = _string(value).lower()
        if text not in choices:
            raise ValueError
        return text

    return parse


def boolean(value: Any) -> bool:
    """A parser for true/false, 1/0, yes/no, on/off (any case)."""
    if isinstance(value, bool):
        return value
    text = _string(value).lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_LEVEL_ALLOWED = f"one of {', '.join(LOG_LEVELS)} (upper case, as Python's logging spells them)"


def log_level(value: Any) -> str:
    """A parser for a level name exactly as Python's logging spells it (``info`` is refused
    there, so it is refused here rather than crash the server's start)."""
    text = _string(value)
    if text not in LOG_LEVELS:
        raise ValueError
    return text


def label_studio_env(environ: Mapping[str, str], name: str, default: str | None = None) -> str | None:
    """A variable the way Label Studio reads it: LABEL_STUDIO_X, HEARTEX_X, then X."""
    for spelling in (f"LABEL_STUDIO_{name}", f"HEARTEX_{name}", name):
        if spelling in environ:
            return environ[spelling]
    return default


def log_level_from_environment(name: str, default: str = "INFO") -> str:
    """The level in environment variable ``name``; ImproperlyConfigured naming it if invalid."""
    raw = os.environ.get(name)
    try:
        return default if raw is None else Option(name, default, log_level, LOG_LEVEL_ALLOWED).clean(raw)
    except InvalidSetting as error:
        raise ImproperlyConfigured(str(error)) from None


def _key(value: Any) -> bytes:
    if isinstance(value, str):
        value = value.strip().encode("utf-8")
    if not isinstance(value, bytes) or len(value) < MIN_KEY_BYTES:
        raise ValueError
    return value


_BEARER_TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")  # RFC 6750's b64token


def _optional_bearer_token(value: Any) -> str | None:
    """A bearer token a client sends in a header (RFC 6750 characters), long enough to guess never."""
    text = _string(value).strip() if value is not None else ""
    if not text:
        return None
    if len(text) < MIN_KEY_BYTES or len(text) > 500 or not _BEARER_TOKEN.fullmatch(text):
        raise ValueError
    return text


def _optional_key(value: Any) -> bytes | None:
    if value is None or value == "" or value == b"":
        return None
    return _key(value)


def _items(value: Any, separators: str) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, str):
        return [item for item in re.split(f"[{separators}]", value) if item.strip()]
    if isinstance(value, list | tuple):
        return list(value)
    raise TypeError


def _key_list(value: Any) -> tuple[bytes, ...]:
    return tuple(_key(item) for item in _items(value, ","))


def _origins(value: Any) -> tuple[str, ...]:
    origins = []
    for item in _items(value, r",\s"):
        text = _string(item)
        if text.lower() in ("'self'", "'none'"):
            origins.append(text.lower())
        elif _ORIGIN.fullmatch(text):
            origins.append(text)
        else:
            raise ValueError
    if "'none'" in origins and len(origins) > 1:
        raise ValueError
    return tuple(origins)


def _rate(value: Any) -> str:
    match = _RATE.fullmatch(_string(value))
    if not match or int(match.group(1)) < 1:
        raise ValueError
    return f"{int(match.group(1))}/{match.group(2)[0].lower()}"


def _domains(value: Any) -> tuple[str, ...]:
    """Email domains, lower case; each must be a whole domain name (no wildcards, no @)."""
    domains = tuple(_string(item).lower() for item in _items(value, r",\s"))
    if any(not _DOMAIN.fullmatch(domain) for domain in domains):
        raise ValueError
    return domains


def _groups(value: Any) -> tuple[str, ...]:
    """Group names as the identity spells them (case matters), separated by commas."""
    groups = tuple(_string(item) for item in _items(value, ","))
    if any(not group or len(group) > MAX_GROUP_NAME or not group.isprintable() for group in groups):
        raise ValueError
    return groups


def _optional_groups(value: Any) -> tuple[str, ...] | None:
    """Like _groups; unset or empty is None (the staff flag is then left alone)."""
    groups = _groups(value)
    return groups or None


def _optional_id(value: Any) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return integer_between(1, 2**63 - 1)(value)


def _optional_issuer(value: Any) -> str | None:
    """An OpenID issuer URL: https (http only for a loopback name), no query or fragment."""
    from urllib.parse import urlsplit

    if value is None:
        return None
    text = _string(value)
    if not text:
        return None
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018  (raises ValueError for a bad port)
    except ValueError:
        raise ValueError from None
    # Loopback names (RFC 6761: localhost and *.localhost) may use http, for demos on one machine.
    loopback = parts.hostname in ("localhost", "127.0.0.1", "::1") or str(parts.hostname).endswith(
        ".localhost"
    )
    if (
        parts.scheme not in ("https", "http")
        or (parts.scheme == "http" and not loopback)
        or not parts.hostname
        or parts.query
        or parts.fragment
        or "@" in parts.netloc
        or len(text) > 500
        or not text.isascii()
        or any(character.isspace() for character in text)
    ):
        raise ValueError
    return text


def _printable(limit: int) -> Callable[[Any], str]:
    """A parser for a non-empty printable text of at most ``limit`` characters."""

    def parse(value: Any) -> str:
        text = _string(value)
        if not text or len(text) > limit or not text.isprintable():
            raise ValueError
        return text

    return parse


def _client_credential(value: Any) -> str:
    text = _string(value)
    if len(text) > 500 or not text.isascii() or not text.isprintable():
        raise ValueError
    return text


def _scopes(value: Any) -> tuple[str, ...]:
    """OAuth scopes (RFC 6749 3.3 characters), space-separated; ``openid`` must be one."""
    items = value if isinstance(value, list | tuple) else _string(value).split()
    scopes = tuple(dict.fromkeys(items))
    if "openid" not in scopes or any(
        not isinstance(scope, str) or not _SCOPE.fullmatch(scope) for scope in scopes
    ):
        raise ValueError
    return scopes


def _claim_path(value: Any) -> str:
    """A claim name as providers spell it: a word, or a URL-like name such as Auth0's."""
    text = _string(value)
    if not text or len(text) > 200 or not text.isascii() or not text.isprintable() or " " in text:
        raise ValueError
    return text


_HEADER_NAME = re.compile(r"[A-Za-z0-9-]{1,64}")  # no "_": gunicorn drops such headers


def _header_name(value: Any) -> str:
    """An HTTP header name (letters, digits, -); empty switches the feature off."""
    text = _string(value)
    if text and (not _HEADER_NAME.fullmatch(text) or text.lower() in _HEADERS_NEVER_TRUSTED):
        raise ValueError
    return text


# Headers a browser or Label Studio itself sets: never an identity.
_HEADERS_NEVER_TRUSTED = frozenset({"authorization", "cookie", "host", "origin", "referer", "content-type"})


def _networks(value: Any) -> tuple[Any, ...]:
    """Peer addresses as CIDR blocks (a bare address is a block of one)."""
    import ipaddress

    if isinstance(value, tuple) and all(
        isinstance(item, ipaddress.IPv4Network | ipaddress.IPv6Network) for item in value
    ):
        return value
    return tuple(ipaddress.ip_network(_string(item), strict=False) for item in _items(value, r",\s"))


def _algorithms(value: Any) -> tuple[str, ...]:
    """Asymmetric JWS algorithms only: a public key must never verify an HMAC."""
    algorithms = tuple(dict.fromkeys(_string(item) for item in _items(value, r",\s")))
    if not algorithms or any(algorithm not in ASYMMETRIC_ALGORITHMS for algorithm in algorithms):
        raise ValueError
    return algorithms


def _public_keys(value: Any) -> dict[str, Any] | None:
    """PEM public keys or a JWKS document, parsed once: a bad key stops start-up, not a login."""
    from .key_files import parse_public_keys

    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, dict):  # parsed keys (from the environment), or a JWKS document in settings
        from jwt import PyJWK

        if value and all(isinstance(key, PyJWK) for key in value.values()):
            return value
        return parse_public_keys(json.dumps(value))
    return parse_public_keys(_string(value))


def _optional_text(limit: int) -> Callable[[Any], str]:
    """Printable text of at most ``limit`` characters, or empty."""

    def parse(value: Any) -> str:
        text = _string(value)
        if len(text) > limit or not text.isprintable():
            raise ValueError
        return text

    return parse


def _pem_certificates(value: Any) -> tuple[str, ...]:
    """One or more PEM X.509 certificates (two while one is being replaced), parsed once."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    if isinstance(value, list | tuple):
        value = "\n".join(value)
    if value is None or (isinstance(value, str) and not value.strip()):
        return ()
    text = _string(value)
    if len(text) > 64_000:
        raise ValueError
    certificates = x509.load_pem_x509_certificates(text.encode("ascii"))
    return tuple(certificate.public_bytes(Encoding.PEM).decode("ascii") for certificate in certificates)


def _pem_private_key(value: Any) -> str:
    """An unencrypted PEM RSA private key (what XML signatures and decryption use), or empty."""
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    if value is None:
        return ""
    text = _string(value)
    if not text:
        return ""
    if len(text) > 16_000 or not text.isascii():
        raise ValueError
    if not isinstance(load_pem_private_key(text.encode("ascii"), password=None), rsa.RSAPrivateKey):
        raise ValueError
    return text


def _optional_file(value: Any) -> str | None:
    """An absolute path, or unset."""
    if value is None:
        return None
    text = _string(value)
    if not text:
        return None
    if not text.startswith("/") or len(text) > 1000 or not text.isprintable():
        raise ValueError
    return text


def _attribute_names(value: Any) -> tuple[str, ...]:
    """SAML attribute names (claim URIs included), tried in order; separated by commas."""
    items = value if isinstance(value, list | tuple) else _string(value).split(",")
    names = tuple(dict.fromkeys(item.strip() for item in items if item.strip()))
    if not names or any(
        len(name) > 500 or not name.isascii() or not name.isprintable() or " " in name for name in names
    ):
        raise ValueError
    return names


# --- the options -----------------------------------------------------------------------


@dataclass(frozen=True)
class Option:
    """One setting: the same name in Django settings and in the environment."""

    name: str
    default: Any
    parse: Callable[[Any], Any]
    allowed: str
    secret: bool = False
    summary: str = ""  # one sentence for the configuration reference (docs/configuration.md)

    def clean(self, value: Any) -> Any:
        """Return the typed value, or raise InvalidSetting naming this option."""
        try:
            return self.parse(value)
        except (TypeError, ValueError) as error:
            raise InvalidSetting(self.name, value, self.allowed, secret=self.secret) from error


# Our templates (Label Studio's login page, extended): ahead of Label Studio's in TEMPLATES DIRS.
SSO_TEMPLATES_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates")

# The cache alias the token API's rate limit uses, and the table behind it (models.py).
RATE_LIMIT_CACHE = "label_studio_sso"
RATE_LIMIT_TABLE = "label_studio_sso_rate_limit"

_HEADER_ALLOWED = (
    "an HTTP header name of letters, digits and - (not Authorization, Cookie, Host...), or empty. "
    "No _: gunicorn and most proxies drop headers whose names have one, and CGI-style servers "
    "cannot tell X_Email from X-Email. Name the header the gateway sends (with Apache's "
    'mod_auth_openidc: RequestHeader set X-Forwarded-Email "%{OIDC_CLAIM_email}e", then '
    "X-Forwarded-Email here), not the variable it comes from"
)
_URL_ALLOWED = "an https URL (http only for localhost names), or unset"
_ALGORITHMS_ALLOWED = "comma-separated asymmetric algorithms: " + ", ".join(ASYMMETRIC_ALGORITHMS)

OPTIONS: tuple[Option, ...] = (
    Option(
        "JWT_SSO_COOKIE_NAME",
        "ls_auth_token",
        _name(_COOKIE_NAME),
        "a cookie name (letters, digits, -_.), or empty to disable cookie login",
        summary="Cookie carrying a login token; empty disables cookie login.",
    ),
    Option(
        "JWT_SSO_COOKIE_PATH",
        "/",
        _cookie_path,
        "a path starting with /",
        summary="Must match what the portal set, so deletion works.",
    ),
    Option(
        "JWT_SSO_COOKIE_DOMAIN",
        None,
        _cookie_domain,
        "a domain such as .example.com, or unset",
        summary="Must match what the portal set.",
    ),
    Option(
        "JWT_SSO_TOKEN_PARAM",
        "token",
        _name(_PARAM_NAME),
        "a URL parameter name (letters, digits, -_.), or empty to disable URL login",
        summary=(
            "URL parameter on any page; empty disables URL login (`/api/sso/login` always reads `token`)."
        ),
    ),
    Option(
        "JWT_SSO_NATIVE_USER_ID_CLAIM",
        "user_id",
        _claim_name,
        "a claim name (letters, digits, _) other than " + ", ".join(sorted(RESERVED_CLAIMS)),
        summary="Claim holding the Label Studio user id.",
    ),
    Option(
        "SSO_TOKEN_EXPIRY",
        600,
        integer_between(10, 86400),
        "whole seconds from 10 to 86400",
        summary="Token lifetime in seconds.",
    ),
    Option(
        "SSO_TOKEN_ISSUER_PERMISSION",
        "staff",
        one_of("staff", "superuser"),
        "'staff' or 'superuser'",
        summary="Who may call the token API (`staff` also admits superusers).",
    ),
    Option("SSO_SINGLE_USE", True, boolean, "true or false", summary="Redeem each token once."),
    Option(
        "SSO_CLOCK_SKEW",
        30,
        integer_between(0, 300),
        "whole seconds from 0 to 300",
        summary="Seconds of leeway on `exp`/`nbf`/`iat`.",
    ),
    Option(
        "SSO_SIGNING_KEY",
        None,
        _optional_key,
        f"a secret of at least {MIN_KEY_BYTES} bytes, or unset to derive one from SECRET_KEY",
        secret=True,
        summary="Signing key; unset = derived from `SECRET_KEY` for this purpose only.",
    ),
    Option(
        "SSO_PREVIOUS_SIGNING_KEYS",
        (),
        _key_list,
        f"comma-separated secrets of at least {MIN_KEY_BYTES} bytes each",
        secret=True,
        summary="Still verify, never sign (rotation).",
    ),
    Option(
        "SSO_FRAME_ANCESTORS",
        (),
        _origins,
        "origins such as https://portal.example.com (or 'self'), separated by spaces or commas",
        summary=(
            "Who may embed Label Studio (CSP `frame-ancestors`); also portals whose links "
            "switch users without asking."
        ),
    ),
    Option(
        "SSO_RATE_LIMIT",
        "60/m",
        _rate,
        "a rate such as 60/m (count per s, m, h or d)",
        summary="Token API requests per issuing user.",
    ),
    Option(
        "SSO_CREATE_USERS",
        False,
        boolean,
        "true or false",
        summary=(
            "Create the user a login names when Label Studio has none with that email "
            "([Users](api.md#users-created-on-first-login))."
        ),
    ),
    Option(
        "SSO_ALLOWED_EMAIL_DOMAINS",
        (),
        _domains,
        "whole domain names such as example.com, separated by commas or spaces, or empty for any",
        summary=(
            "Whom `SSO_CREATE_USERS` may create (exact domain after the `@`; subdomains are not included)."
        ),
    ),
    Option(
        "SSO_ORGANIZATION",
        None,
        _optional_id,
        "an organization id (a whole number), or unset for the first",
        summary="The organization created users join, as Label Studio's own sign-up joins the first.",
    ),
    Option(
        "SSO_REQUIRED_GROUPS",
        (),
        _groups,
        f"group names separated by commas (each at most {MAX_GROUP_NAME} printable characters), or empty",
        summary="A login whose identity is in none of these groups is refused.",
    ),
    Option(
        "SSO_STAFF_GROUPS",
        None,
        _optional_groups,
        f"group names separated by commas (each at most {MAX_GROUP_NAME} printable characters), or unset",
        summary=(
            "Members get `is_staff`, others lose it, on each login that carries groups; unset"
            " = staff flags left alone."
        ),
    ),
    Option(
        "SSO_OIDC_ISSUER",
        None,
        _optional_issuer,
        "the provider's issuer URL (https; http only for localhost names), or unset for no OpenID Connect",
        summary=("Turns on [OpenID Connect](oidc.md); everything else comes from its discovery document."),
    ),
    Option(
        "SSO_OIDC_CLIENT_ID",
        "",
        _client_credential,
        "the client id the provider gave Label Studio",
        summary="The client id the provider gave Label Studio (required with an issuer).",
    ),
    Option(
        "SSO_OIDC_CLIENT_SECRET",
        "",
        _client_credential,
        "the client secret the provider gave Label Studio (printable ASCII)",
        secret=True,
        summary="The client secret (required with an issuer; `_FILE` in the image).",
    ),
    Option(
        "SSO_OIDC_SCOPES",
        ("openid", "email", "profile"),
        _scopes,
        "scopes separated by spaces, openid among them",
        summary="What Label Studio asks the provider for.",
    ),
    Option(
        "SSO_OIDC_DISPLAY_NAME",
        "SSO",
        _printable(60),
        "the provider's name on the login button (1 to 60 printable characters)",
        summary='The button: "Sign in with `SSO_OIDC_DISPLAY_NAME`".',
    ),
    Option(
        "SSO_OIDC_GROUPS_CLAIM",
        "groups",
        _claim_path,
        "the name of the claim that lists the user's groups (no spaces, at most 200 characters)",
        summary="The claim listing the user's groups (for `SSO_REQUIRED_GROUPS`, `SSO_STAFF_GROUPS`).",
    ),
    Option(
        "SSO_FRAME_ROOM",
        True,
        boolean,
        "true or false",
        summary=(
            "Run each request in one roomy frame so CPython allocates its frame stack once per "
            "request (`FrameRoomMiddleware`); `false` removes that middleware at start."
        ),
    ),
    Option(
        "SSO_PASSWORD_LOGIN",
        True,
        boolean,
        "true or false",
        summary=(
            "`false`: Label Studio's password form is hidden, every password sign-in (its "
            "form, Django admin's, the REST framework's) refused and sign-up closed ([break-"
            "glass](oidc.md#when-the-provider-is-down-break-glass))."
        ),
    ),
    Option(
        "SSO_TRUSTED_PROXIES",
        (),
        _networks,
        "addresses or CIDR blocks of the gateways (e.g. 10.0.0.0/8, 172.18.0.5), separated by commas",
        summary=(
            "The gateways whose identity headers are believed (the connection's peer address;"
            " required with any `SSO_PROXY_*_HEADER`)."
        ),
    ),
    Option(
        "SSO_PROXY_REQUIRED",
        False,
        boolean,
        "true or false",
        summary=(
            "Every request not from `SSO_TRUSTED_PROXIES` is refused (403 `GATEWAY_REQUIRED`)"
            " except `/health`; only with a gateway configured (E018); see [gateway-only "
            "deployments](gateways.md#gateway-only-deployments)."
        ),
    ),
    Option(
        "SSO_PROXY_EMAIL_HEADER",
        "",
        _header_name,
        _HEADER_ALLOWED,
        summary=(
            "The gateway's user, e.g. `X-Forwarded-Email` (oauth2-proxy), `Remote-Email` "
            "(Authelia), `X-authentik-email`."
        ),
    ),
    Option(
        "SSO_PROXY_NAME_HEADER",
        "",
        _header_name,
        _HEADER_ALLOWED,
        summary='The user\'s display name ("Mary Ann Smith": first name "Mary Ann", last name "Smith").',
    ),
    Option(
        "SSO_PROXY_GROUPS_HEADER",
        "",
        _header_name,
        _HEADER_ALLOWED,
        summary="The user's groups, comma separated (for `SSO_REQUIRED_GROUPS`, `SSO_STAFF_GROUPS`).",
    ),
    Option(
        "SSO_PROXY_JWT_HEADER",
        "",
        _header_name,
        _HEADER_ALLOWED,
        summary=(
            "A signed assertion, e.g. `X-Goog-Iap-Jwt-Assertion`, `Cf-Access-Jwt-Assertion`: "
            "then the only source of identity."
        ),
    ),
    Option(
        "SSO_PROXY_JWKS_URL",
        None,
        _optional_issuer,
        _URL_ALLOWED,
        summary="The gateway's public keys (required with `SSO_PROXY_JWT_HEADER`).",
    ),
    Option(
        "SSO_PROXY_JWT_AUDIENCE",
        "",
        _optional_text(500),
        "the audience the gateway signs for",
        summary="The `aud` and `iss` the assertion must carry (required with `SSO_PROXY_JWT_HEADER`).",
    ),
    Option(
        "SSO_PROXY_JWT_ISSUER",
        "",
        _optional_text(500),
        "the issuer the gateway signs as",
        summary="The `aud` and `iss` the assertion must carry (required with `SSO_PROXY_JWT_HEADER`).",
    ),
    Option(
        "SSO_PROXY_JWT_ALGORITHMS",
        ("RS256", "ES256", "EdDSA"),
        _algorithms,
        _ALGORITHMS_ALLOWED,
        summary="The algorithms an assertion may use.",
    ),
    Option(
        "SSO_ISSUER_JWKS_URL",
        None,
        _optional_issuer,
        _URL_ALLOWED,
        summary=("The portal's public keys for [portal-signed tokens](portal-signed-tokens.md)."),
    ),
    Option(
        "SSO_ISSUER_PUBLIC_KEYS",
        None,
        _public_keys,
        "PEM public keys (RSA, EC P-256/P-384 or Ed25519) or a JWKS document of public keys",
        summary="The portal's public keys given directly (instead of a URL; `_FILE` in the image).",
    ),
    Option(
        "SSO_ISSUER_ALGORITHMS",
        ("RS256", "ES256", "EdDSA"),
        _algorithms,
        _ALGORITHMS_ALLOWED,
        summary="The algorithms a portal-signed token may use.",
    ),
    Option(
        "SSO_ISSUER",
        "",
        _optional_text(500),
        "the issuer (iss) the portal signs its tokens as",
        summary="The `iss` and `aud` a portal-signed token must carry (both required with portal keys).",
    ),
    Option(
        "SSO_ISSUER_AUDIENCE",
        "",
        _optional_text(500),
        "the audience (aud) the portal signs for",
        summary="The `iss` and `aud` a portal-signed token must carry (both required with portal keys).",
    ),
    Option(
        "SSO_ISSUER_SUPERUSERS",
        False,
        boolean,
        "true or false",
        summary="Whether a portal-signed token may name a superuser (off: `user-outranks-issuer`).",
    ),
    Option(
        "SSO_SCIM_TOKEN",
        None,
        _optional_bearer_token,
        f"a bearer token of {MIN_KEY_BYTES} to 500 characters (letters, digits, - . _ ~ + / and trailing =), "
        "or unset for no SCIM",
        secret=True,
        summary=(
            "The bearer token an identity provider sends to [SCIM](scim.md) at `/scim/v2/`; "
            "unset = SCIM off (404)."
        ),
    ),
    Option(
        "SSO_SCIM_SUPERUSERS",
        False,
        boolean,
        "true or false",
        summary=(
            "Whether SCIM may change, deactivate or delete a superuser, or set its staff flag (off: 403)."
        ),
    ),
    Option(
        "SSO_SCIM_RATE_LIMIT",
        "3000/m",
        _rate,
        "a rate such as 3000/m (count per s, m, h or d)",
        summary="SCIM requests per client address, refused ones included (429 with `Retry-After`).",
    ),
    Option(
        "SSO_SAML_IDP_METADATA_URL",
        None,
        _optional_issuer,
        _URL_ALLOWED,
        summary=(
            "Turns on [SAML 2.0](saml.md): the identity provider's metadata, fetched and refreshed"
            " like a key set."
        ),
    ),
    Option(
        "SSO_SAML_IDP_METADATA_FILE",
        None,
        _optional_file,
        "an absolute path to the identity provider's metadata XML, or unset",
        summary="Turns on [SAML 2.0](saml.md) from a metadata file (instead of a URL).",
    ),
    Option(
        "SSO_SAML_SP_ENTITY_ID",
        "",
        _optional_text(500),
        "this service provider's entity id, or empty for the public origin + /sso/saml/metadata/",
        summary="Label Studio's SAML entity id (the `Audience` a response must name).",
    ),
    Option(
        "SSO_SAML_SP_CERT",
        (),
        _pem_certificates,
        "PEM certificates: the one of SSO_SAML_SP_KEY first, then (while rotating) the next one",
        summary="Label Studio's SAML certificate(s), published in its metadata (`_FILE` in the image).",
    ),
    Option(
        "SSO_SAML_SP_KEY",
        "",
        _pem_private_key,
        "an unencrypted PEM RSA private key, or empty",
        secret=True,
        summary=(
            "Signs authentication and logout requests and decrypts encrypted assertions"
            " (`_FILE` in the image)."
        ),
    ),
    Option(
        "SSO_SAML_DISPLAY_NAME",
        "SAML",
        _printable(60),
        "the identity provider's name on the login button (1 to 60 printable characters)",
        summary='The button: "Sign in with `SSO_SAML_DISPLAY_NAME`".',
    ),
    Option(
        "SSO_SAML_EMAIL_ATTRIBUTE",
        (
            "email",
            "mail",
            "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
            "urn:oid:0.9.2342.19200300.100.1.3",
        ),
        _attribute_names,
        "attribute names separated by commas, the first present wins",
        summary="Where the email is (else the NameID in the emailAddress format).",
    ),
    Option(
        "SSO_SAML_FIRST_NAME_ATTRIBUTE",
        (
            "firstName",
            "givenName",
            "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname",
            "urn:oid:2.5.4.42",
        ),
        _attribute_names,
        "attribute names separated by commas, the first present wins",
        summary="Where the first name is.",
    ),
    Option(
        "SSO_SAML_LAST_NAME_ATTRIBUTE",
        (
            "lastName",
            "sn",
            "surname",
            "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname",
            "urn:oid:2.5.4.4",
        ),
        _attribute_names,
        "attribute names separated by commas, the first present wins",
        summary="Where the last name is.",
    ),
    Option(
        "SSO_SAML_GROUPS_ATTRIBUTE",
        (
            "groups",
            "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups",
            "http://schemas.xmlsoap.org/claims/Group",
            "memberOf",
        ),
        _attribute_names,
        "attribute names separated by commas, the first present wins",
        summary="Where the groups are (for `SSO_REQUIRED_GROUPS`, `SSO_STAFF_GROUPS`).",
    ),
    Option(
        "SSO_SAML_ALLOW_IDP_INITIATED",
        False,
        boolean,
        "true or false",
        summary=(
            "Accept a response no request of this browser asked for (sign-in started at the"
            " identity provider's portal)."
        ),
    ),
    Option(
        "SSO_JWKS_MIN_REFRESH",
        60,
        integer_between(0, 3600),
        "whole seconds from 0 to 3600 between two fetches of a provider's keys",
        summary="Seconds between two fetches of a key set (provider, gateway, portal) for an unknown `kid`.",
    ),
)

OPTIONS_BY_NAME: dict[str, Option] = {option.name: option for option in OPTIONS}


def read_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    """Typed values for the options present in ``environ``; the first bad one raises.

    The error is ImproperlyConfigured with one line that names the variable, shows its
    value (masked if secret) and says what is allowed.
    """
    values = {}
    for option in OPTIONS:
        if option.name in environ:
            try:
                values[option.name] = option.clean(environ[option.name])
            except InvalidSetting as error:
                raise ImproperlyConfigured(str(error)) from None
    return values


def invalid_settings(source: Any) -> list[InvalidSetting]:
    """Every option whose value on ``source`` (e.g. django.conf.settings) is not allowed."""
    problems = []
    for option in OPTIONS:
        try:
            option.clean(getattr(source, option.name, option.default))
        except InvalidSetting as error:
            problems.append(error)
    return problems


class SsoSettings:
    """Typed, validated view of the SSO settings, read lazily from django.conf.settings."""

    def __init__(self) -> None:
        self._cache: dict[str, Any] = {}

    def __getattr__(self, name: str) -> Any:
        option = OPTIONS_BY_NAME.get(name)
        if option is None:
            raise AttributeError(name)
        if name not in self._cache:
            from django.conf import settings

            try:
                self._cache[name] = option.clean(getattr(settings, name, option.default))
            except InvalidSetting as error:
                raise ImproperlyConfigured(str(error)) from None
        return self._cache[name]

    def reload(self, names: Iterable[str] | None = None) -> None:
        """Forget cached values (all, or the given names) so the next read sees the change."""
        if names is None:
            self._cache.clear()
        for name in names or ():
            self._cache.pop(name, None)


sso_settings = SsoSettings()


def reload_on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    """Receiver for Django's setting_changed signal (connected in AppConfig.ready)."""
    if setting in OPTIONS_BY_NAME:  # keys derived from SECRET_KEY are never cached
        sso_settings.reload([setting])
