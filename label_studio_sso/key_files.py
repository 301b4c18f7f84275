"""Public keys given in the configuration: PEM blocks or a JWKS document, parsed into PyJWT keys.

A PEM key has no ``kid``; it gets its RFC 7638 thumbprint, so a portal can name it in its
tokens' header (``jose``'s ``calculateJwkThumbprint``) or, with one key only, omit ``kid``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from jwt import PyJWK, PyJWTError
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

from .jwks import MAX_KEYS, public_keys

_PEM_BLOCK = re.compile(r"-----BEGIN PUBLIC KEY-----.+?-----END PUBLIC KEY-----", re.DOTALL)
_THUMBPRINT_MEMBERS = {"RSA": ("e", "kty", "n"), "EC": ("crv", "kty", "x", "y"), "OKP": ("crv", "kty", "x")}


def parse_public_keys(text: str) -> dict[str, PyJWK]:
    """The keys in ``text`` by ``kid``; ValueError if it holds none, or anything else."""
    try:
        return _parse(text)
    except (PyJWTError, UnsupportedAlgorithm, KeyError, TypeError):
        raise ValueError from None


def _parse(text: str) -> dict[str, PyJWK]:
    if text.lstrip().startswith("{"):
        try:
            document = json.loads(text)
        except (ValueError, RecursionError):
            raise ValueError from None
        keys = public_keys(document) if isinstance(document, dict) else {}
    else:
        blocks = _PEM_BLOCK.findall(text)
        if len(blocks) > MAX_KEYS or _PEM_BLOCK.sub("", text).strip():
            raise ValueError  # something besides public-key blocks: a private key, a typo
        keys = {}
        for block in blocks:
            jwk = jwk_of_pem(block)
            keys[jwk["kid"]] = PyJWK(jwk)
    if not keys:
        raise ValueError
    return keys


def jwk_of_pem(pem: str) -> dict[str, Any]:
    """The public JWK of one PEM public key, with its thumbprint as ``kid``."""
    key = load_pem_public_key(pem.encode("ascii"))
    if isinstance(key, rsa.RSAPublicKey):
        jwk = RSAAlgorithm.to_jwk(key, as_dict=True)
    elif isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name in ("secp256r1", "secp384r1"):
        jwk = ECAlgorithm.to_jwk(key, as_dict=True)
    elif isinstance(key, ed25519.Ed25519PublicKey):
        jwk = OKPAlgorithm.to_jwk(key, as_dict=True)
    else:
        raise ValueError
    return {**jwk, "kid": thumbprint(jwk)}


def thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638: SHA-256 of the key's required members, as compact JSON, base64url."""
    members = {name: jwk[name] for name in _THUMBPRINT_MEMBERS[jwk["kty"]]}
    digest = hashlib.sha256(json.dumps(members, separators=(",", ":"), sort_keys=True).encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
