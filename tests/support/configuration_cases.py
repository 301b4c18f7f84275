"""Every configuration variable with a wrong type, an out-of-range value and an empty value.

One table for both the image (the entrypoint must exit 64 naming the variable) and the
plain package (Django's system check must report it). ``EMPTY_MEANS`` lists the
variables whose empty value is documented and valid.
"""

from __future__ import annotations

from label_studio_sso.conf import OPTIONS
from label_studio_sso.container.environment import IMAGE_OPTIONS

# name -> (wrong type, out of range)
BAD_VALUES: dict[str, tuple[str, str]] = {
    "JWT_SSO_COOKIE_NAME": ("ls auth;token", "x" * 65),
    "JWT_SSO_COOKIE_PATH": ("projects", "/" + "p" * 256),
    "JWT_SSO_COOKIE_DOMAIN": ("example .com", "a" * 254 + ".com"),
    "JWT_SSO_TOKEN_PARAM": ("to&ken", "t" * 65),
    "JWT_SSO_NATIVE_USER_ID_CLAIM": ("user-id", "exp"),
    "SSO_TOKEN_EXPIRY": ("ten minutes", "86401"),
    "SSO_TOKEN_ISSUER_PERMISSION": ("1", "everyone"),
    "SSO_SINGLE_USE": ("maybe", "2"),
    "SSO_CLOCK_SKEW": ("30s", "301"),
    "SSO_SIGNING_KEY": ("\t", "k" * 31),
    "SSO_PREVIOUS_SIGNING_KEYS": (",short,", "k" * 31),
    "SSO_FRAME_ANCESTORS": ("portal.example.com", "'none' https://portal.example.com"),
    "SSO_RATE_LIMIT": ("sixty", "1234567/m"),
    "SSO_CREATE_USERS": ("maybe", "2"),
    "SSO_ALLOWED_EMAIL_DOMAINS": ("@example.com", "a" * 64 + ".example.com"),
    "SSO_ORGANIZATION": ("first", "0"),
    "SSO_REQUIRED_GROUPS": ("ops\u200bteam", "g" * 201),
    "SSO_STAFF_GROUPS": ("ops\u200bteam", "g" * 201),
    "SSO_OIDC_ISSUER": ("http://idp.example.com", "https://idp.example.com/?realm=" + "r" * 500),
    "SSO_OIDC_CLIENT_ID": ("label-stüdio", "c" * 501),
    "SSO_OIDC_CLIENT_SECRET": ("sécret", "s" * 501),
    "SSO_OIDC_SCOPES": ("email profile", 'openid "profile"'),
    "SSO_OIDC_DISPLAY_NAME": ("Corp\u200bIdP", "n" * 61),
    "SSO_OIDC_GROUPS_CLAIM": ("my groups", "g" * 201),
    "SSO_PASSWORD_LOGIN": ("maybe", "2"),
    "SSO_FRAME_ROOM": ("maybe", "2"),
    "SSO_JWKS_MIN_REFRESH": ("1m", "3601"),
    "SSO_TRUSTED_PROXIES": ("gateway.local", "10.0.0.0/33"),
    "SSO_PROXY_REQUIRED": ("maybe", "2"),
    "SSO_PROXY_EMAIL_HEADER": ("X_Forwarded_Email", "Cookie"),
    "SSO_PROXY_NAME_HEADER": ("X-Forwarded User", "h" * 65),
    "SSO_PROXY_GROUPS_HEADER": ("X-Forwarded:Groups", "Authorization"),
    "SSO_PROXY_JWT_HEADER": ("Cf_Access_Jwt_Assertion", "Host"),
    "SSO_PROXY_JWKS_URL": ("http://gateway.example.com/certs", "https://gateway.example.com/#" + "c" * 500),
    "SSO_PROXY_JWT_AUDIENCE": ("aud\u200btag", "a" * 501),
    "SSO_PROXY_JWT_ISSUER": ("https://team\u200b.example", "i" * 501),
    "SSO_PROXY_JWT_ALGORITHMS": ("HS256", "ES256,none"),
    "SSO_ISSUER_JWKS_URL": ("ftp://portal.example.com/jwks", "https://portal.example.com/?" + "j" * 500),
    "SSO_ISSUER_PUBLIC_KEYS": ("not a key", '{"keys": [{"kty": "oct", "k": "c2VjcmV0LXNlY3JldA"}]}'),
    "SSO_ISSUER_ALGORITHMS": ("HS256", "RS256,none"),
    "SSO_ISSUER": ("portal\u200b", "p" * 501),
    "SSO_ISSUER_AUDIENCE": ("label\u200bstudio", "l" * 501),
    "SSO_ISSUER_SUPERUSERS": ("maybe", "2"),
    "SSO_SCIM_TOKEN": ("a token with spaces " + "x" * 32, "t" * 31),
    "SSO_SCIM_SUPERUSERS": ("maybe", "2"),
    "SSO_SCIM_RATE_LIMIT": ("lots", "0/m"),
    "SSO_SAML_IDP_METADATA_URL": (
        "http://idp.example.com/metadata",
        "https://idp.example.com/?m=" + "m" * 500,
    ),
    "SSO_SAML_IDP_METADATA_FILE": ("idp-metadata.xml", "/" + "m" * 1000),
    "SSO_SAML_SP_ENTITY_ID": ("label\u200bstudio", "e" * 501),
    "SSO_SAML_SP_CERT": ("not a certificate", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"),
    "SSO_SAML_SP_KEY": ("not a key", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"),
    "SSO_SAML_DISPLAY_NAME": ("Corp\u200bIdP", "n" * 61),
    "SSO_SAML_EMAIL_ATTRIBUTE": ("e mail", "a" * 501),
    "SSO_SAML_FIRST_NAME_ATTRIBUTE": ("first name", "a" * 501),
    "SSO_SAML_LAST_NAME_ATTRIBUTE": ("last name", "a" * 501),
    "SSO_SAML_GROUPS_ATTRIBUTE": ("my groups", "a" * 501),
    "SSO_SAML_ALLOW_IDP_INITIATED": ("maybe", "2"),
    "PORT": ("http", "65536"),
    "LISTEN_ADDRESS": ("everywhere", "fe80::1%eth0"),
    "WEB_CONCURRENCY": ("two", "65"),
    "GUNICORN_THREADS": ("four", "0"),
    "GUNICORN_TIMEOUT": ("2m", "4"),
    "DB_WAIT_TIMEOUT": ("-1", "601"),
    "MIGRATE_LOCK_TIMEOUT": ("1h", "86401"),
    "DJANGO_DB": ("5", "mongodb"),
    "LSSO_DEMO_DATA": ("please", "2"),
    "LOG_LEVEL": ("info", "TRACE"),
    "SSO_LOG_LEVEL": ("debug", "VERBOSE"),
    "SSO_AUDIT_LOG_LEVEL": ("Warning", "NOTSET"),
}

# Empty is valid for these: it switches a feature off or falls back to the default.
EMPTY_MEANS = {
    "JWT_SSO_COOKIE_NAME": "cookie login off",
    "JWT_SSO_COOKIE_DOMAIN": "host-only cookie",
    "JWT_SSO_TOKEN_PARAM": "URL login off",
    "SSO_SIGNING_KEY": "key derived from SECRET_KEY",
    "SSO_PREVIOUS_SIGNING_KEYS": "no previous keys",
    "SSO_FRAME_ANCESTORS": "no frame-ancestors header",
    "SSO_ALLOWED_EMAIL_DOMAINS": "any domain",
    "SSO_ORGANIZATION": "the first organization",
    "SSO_REQUIRED_GROUPS": "no group required",
    "SSO_STAFF_GROUPS": "staff flags left alone",
    "SSO_OIDC_ISSUER": "OpenID Connect off",
    "SSO_OIDC_CLIENT_ID": "unset (needed only with SSO_OIDC_ISSUER)",
    "SSO_OIDC_CLIENT_SECRET": "unset (needed only with SSO_OIDC_ISSUER)",
    "SSO_TRUSTED_PROXIES": "no gateway trusted",
    "SSO_PROXY_EMAIL_HEADER": "no identity from a header",
    "SSO_PROXY_NAME_HEADER": "no names from a header",
    "SSO_PROXY_GROUPS_HEADER": "no groups from a header",
    "SSO_PROXY_JWT_HEADER": "no gateway assertion",
    "SSO_PROXY_JWKS_URL": "unset (needed only with SSO_PROXY_JWT_HEADER)",
    "SSO_PROXY_JWT_AUDIENCE": "unset (needed only with SSO_PROXY_JWT_HEADER)",
    "SSO_PROXY_JWT_ISSUER": "unset (needed only with SSO_PROXY_JWT_HEADER)",
    "SSO_ISSUER_JWKS_URL": "no portal-signed tokens from a key URL",
    "SSO_ISSUER_PUBLIC_KEYS": "no portal-signed tokens from configured keys",
    "SSO_ISSUER": "unset (needed only with portal keys)",
    "SSO_ISSUER_AUDIENCE": "unset (needed only with portal keys)",
    "SSO_SCIM_TOKEN": "SCIM off",
    "SSO_SAML_IDP_METADATA_URL": "no SAML from a metadata URL",
    "SSO_SAML_IDP_METADATA_FILE": "no SAML from a metadata file",
    "SSO_SAML_SP_ENTITY_ID": "the public origin + /sso/saml/metadata/",
    "SSO_SAML_SP_CERT": "no certificate published",
    "SSO_SAML_SP_KEY": "requests unsigned, no encrypted assertions",
}

IMAGE_ONLY = {option.name for option in IMAGE_OPTIONS}
PACKAGE_OPTIONS = [option.name for option in OPTIONS]


def invalid_cases(names: list[str]) -> list[tuple[str, str, str]]:
    """(variable, what is wrong, value) for every variable in ``names``."""
    cases = []
    for name in names:
        wrong_type, out_of_range = BAD_VALUES[name]
        cases += [(name, "wrong type", wrong_type), (name, "out of range", out_of_range)]
        if name not in EMPTY_MEANS:
            cases.append((name, "empty", ""))
    return cases


def every_variable() -> list[str]:
    """Every variable the image validates: the package's options and the image's own."""
    names = PACKAGE_OPTIONS + [option.name for option in IMAGE_OPTIONS]
    missing = set(names) - set(BAD_VALUES)
    assert not missing, f"no bad values listed for {sorted(missing)}"
    return names
