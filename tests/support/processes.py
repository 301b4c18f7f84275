"""Server processes the tests start: a free port, a health poll, a clean stop."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable


def stop_process_group(process: subprocess.Popen[bytes], grace: float = 20) -> None:
    """SIGTERM a server started with start_new_session=True and its children; SIGKILL if slow."""
    import signal

    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_health(
    url: str,
    timeout: float,
    running: Callable[[], bool] = lambda: True,
    output: Callable[[], str] = str,
    path: str = "/health",
) -> None:
    """Poll ``url`` + ``path`` until it answers 200; fail with the server's output if it dies or stalls."""
    import time

    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not running():
            raise AssertionError(f"server exited:\n{output()[-4000:]}")
        try:  # a worker still importing Label Studio accepts, then answers late
            if requests.get(f"{url}{path}", timeout=15, verify=False).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(1)
    raise AssertionError(f"server not healthy after {timeout}s:\n{output()[-4000:]}")
