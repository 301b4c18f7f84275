"""The signature algorithms a token signed elsewhere may use, written once for every way in."""

from __future__ import annotations

# The one list of signature algorithms any token from elsewhere may use (gateway assertions,
# portal-signed tokens, OpenID Connect ID and logout tokens): public-key only, so no "none"
# and no HMAC keyed with a public key; every name is known to both PyJWT and joserfc.
ASYMMETRIC_ALGORITHMS = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
)
