"""Whether a secret reached the captured logs: any stretch of it counts, not only the whole,
so a secret cut, wrapped or quoted in a log line is still found."""

from __future__ import annotations


def fragments(secret: str, width: int = 16) -> set[str]:
    """Every stretch of ``width`` characters of a secret, stepping by half a width."""
    if len(secret) <= width:
        return {secret}
    return {secret[start : start + width] for start in range(0, len(secret) - width + 1, width // 2)}


def jwt_fragments(token: str) -> set[str]:
    _header, payload, signature = token.split(".")
    return fragments(payload) | fragments(signature)


def assert_nothing_of(secrets: dict[str, set[str]], captured: str) -> None:
    """No fragment of any named secret appears in the captured output."""
    leaks = {name: sorted(f for f in found if f in captured) for name, found in secrets.items()}
    assert leaks == {name: [] for name in secrets}
