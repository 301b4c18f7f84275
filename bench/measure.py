"""Timing primitives: one fresh loopback connection per request, A/B interleaving, summaries.

A fresh connection per request keeps keep-alive timers out of the figures (see the
project's notes on Label Studio's servers); both sides pay the same TCP set-up.
"""

from __future__ import annotations

import http.client
import statistics
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Reply:
    """What one request took and what came back."""

    seconds: float
    status: int
    headers: http.client.HTTPMessage
    body: bytes


def request(
    port: int, method: str, path: str, headers: Mapping[str, str] | None = None, body: bytes | None = None
) -> Reply:
    """One request on a new connection to 127.0.0.1:port, timed from connect to the last byte."""
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request(method, path, body=body, headers=dict(headers or {}))
        response = connection.getresponse()
        payload = response.read()
        return Reply(time.perf_counter() - started, response.status, response.headers, payload)
    finally:
        connection.close()


def expect(reply: Reply, status: int, what: str) -> Reply:
    """Stop the benchmark when a request does not do what is being measured."""
    if reply.status != status:
        raise RuntimeError(f"{what}: expected HTTP {status}, got {reply.status}: {reply.body[:200]!r}")
    return reply


def rotated(count: int, *runs: Callable[[], float]) -> list[list[float]]:
    """Run each of ``runs`` ``count`` times in rotation (A B C, B C A, ...) so noise hits all alike."""
    samples: list[list[float]] = [[] for _ in runs]
    for index in range(count):
        for offset in range(len(runs)):
            position = (index + offset) % len(runs)
            samples[position].append(runs[position]())
    return samples


def concurrently(clients: int, per_client: int, one: Callable[[], float]) -> tuple[list[float], float]:
    """``clients`` threads each run ``one`` ``per_client`` times: (latencies, requests per second)."""
    latencies: list[float] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start_line = threading.Barrier(clients + 1)

    def client() -> None:
        start_line.wait()
        try:
            mine = [one() for _ in range(per_client)]
        except BaseException as error:  # reported below, in the main thread
            errors.append(error)
            return
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    start_line.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise errors[0]
    return latencies, len(latencies) / elapsed


@dataclass(frozen=True)
class Summary:
    """Median and 95th percentile of a sample, in the sample's unit."""

    median: float
    p95: float
    count: int

    @classmethod
    def of(cls, sample: list[float]) -> Summary:
        ordered = sorted(sample)
        rank = max(0, min(len(ordered) - 1, round(0.95 * len(ordered)) - 1))
        return cls(statistics.median(ordered), ordered[rank], len(ordered))
