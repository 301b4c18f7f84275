"""Which peers may speak for a user: SSO_TRUSTED_PROXIES, matched against the connection's address.

Trust is decided by the peer alone (``REMOTE_ADDR``, the address the TCP connection came
from). ``X-Forwarded-For`` never makes a peer trusted: anyone can write it. It only names
the client in the audit log, read from the right through the hops that are trusted, so a
value a client prepended is never believed.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.http import HttpRequest

from ..conf import sso_settings

MAX_FORWARDED_HOPS = 20


def peer_is_trusted(request: HttpRequest) -> bool:
    """Whether the connection comes from a gateway named in SSO_TRUSTED_PROXIES."""
    return _is_trusted(request.META.get("REMOTE_ADDR", ""), sso_settings.SSO_TRUSTED_PROXIES)


def client_address(request: HttpRequest) -> str:
    """The client as far as trusted hops vouch for it: the right-most untrusted forwarded address."""
    peer = request.META.get("REMOTE_ADDR", "") or "-"
    networks = sso_settings.SSO_TRUSTED_PROXIES
    if not _is_trusted(peer, networks):
        return peer
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    hops = [hop.strip() for hop in forwarded.split(",")][-MAX_FORWARDED_HOPS:] if forwarded else []
    for hop in reversed(hops):
        if _address(hop) is None:
            return peer  # a malformed hop: believe nothing further left
        if not _is_trusted(hop, networks):
            return hop
    return peer


@lru_cache(maxsize=1024)
def _is_trusted(address: str, networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]) -> bool:
    parsed = _address(address)
    if parsed is None:
        return False
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        parsed = parsed.ipv4_mapped  # ::ffff:10.0.0.5 from a dual-stack socket is 10.0.0.5
    return any(parsed in network for network in networks)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None
