"""What the first-login races share: twelve attempts released at once, the one address spelled
as different browsers and providers send it, and connections from a gateway's own address."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from requests.adapters import HTTPAdapter

RACE = 12
Outcome = TypeVar("Outcome")


def raced(attempt: Callable[[int], Outcome], count: int = RACE) -> list[Outcome]:
    """``attempt(index)`` run ``count`` times at once, all released together."""
    start = threading.Barrier(count)

    def run(index: int) -> Outcome:
        start.wait()
        return attempt(index)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def spelled(email: str, index: int) -> str:
    """The same address in mixed case, as different browsers and providers may send it."""
    local, _at, domain = email.partition("@")
    return [email, local.capitalize() + "@" + domain, email.upper()][index % 3]


class FromAddress(HTTPAdapter):
    """Connections that leave from ``address`` (a gateway's, say: any other loopback address
    is a browser's), as a reverse proxy's would."""

    def __init__(self, address: str, **kwargs: Any) -> None:
        self.address = address
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)
