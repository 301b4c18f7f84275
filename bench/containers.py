"""The image against its base: size, and time from ``docker run`` to a healthy /health.

The base runs its own default command (``label-studio start``: migrate, then serve); the
SSO image runs its entrypoint (validate, migrate, gunicorn). Both start on an empty data
directory, so both pay Label Studio's first-start migration, as a new deployment does.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from .measure import request
from .scenarios import Figure
from .servers import ENVIRONMENT, REPO, free_port

MEGABYTE = 1_000_000


def build_image(tag: str) -> tuple[str, str]:
    """Build the SSO image with the project's own build command; return (image, its base)."""
    subprocess.run([str(REPO / "docker" / "build-image"), tag], check=True, stdout=subprocess.DEVNULL)
    base = _inspect(tag, '{{ index .Config.Labels "org.opencontainers.image.base.name" }}')
    return tag, base


def _inspect(image: str, template: str) -> str:
    return subprocess.run(
        ["docker", "image", "inspect", "--format", template, image],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def image_size(image: str, base: str) -> Figure:
    """Bytes on disk, as ``docker image inspect`` counts them (the base's layers included)."""
    size, base_size = (int(_inspect(name, "{{.Size}}")) / MEGABYTE for name in (image, base))
    return Figure("image_size", "Image size", "MB", image, base, [size], [base_size], 20.0, goal_kind="delta")


def seconds_to_healthy(image: str) -> float:
    """``docker run`` on a fresh container until /health answers 200 on the published port."""
    port = free_port()
    environment = [argument for name, value in ENVIRONMENT.items() for argument in ("-e", f"{name}={value}")]
    started = time.monotonic()
    container = subprocess.run(
        ["docker", "run", "-d", "-p", f"127.0.0.1:{port}:8080", *environment, image],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    try:
        deadline = started + 600
        while time.monotonic() < deadline:
            try:
                if request(port, "GET", "/health").status == 200:
                    return time.monotonic() - started
            except OSError:
                pass
            if _inspect_container(container, "{{.State.Running}}") != "true":
                raise RuntimeError(f"{image} exited before it was healthy")
            time.sleep(0.25)
        raise RuntimeError(f"{image} not healthy after 600 s")
    finally:
        subprocess.run(["docker", "rm", "-f", container], check=False, capture_output=True)


def _inspect_container(container: str, template: str) -> str:
    return subprocess.run(
        ["docker", "inspect", "--format", template, container], capture_output=True, text=True
    ).stdout.strip()


def start_up(image: str, base: str, runs: int) -> Figure:
    """Start-to-healthy of each, alternating image and base."""
    subject: list[float] = []
    baseline: list[float] = []
    for index in range(runs):
        pair = ((image, subject), (base, baseline))
        for name, times in pair if index % 2 == 0 else pair[::-1]:
            times.append(seconds_to_healthy(name))
    return Figure("start_to_healthy", "docker run → /health 200", "s", image, base, subject, baseline, 1.10)


def run_in_image(image: str, arguments: list[str], output: Path) -> None:
    """``python -m bench ARGUMENTS`` inside a container of ``image``, this checkout mounted
    read-only as its working directory: the measurement on the Python the image ships.
    Results go to ``output`` (made writable for the image's unprivileged user)."""
    output.mkdir(parents=True, exist_ok=True)
    output.chmod(0o777)
    subprocess.run(
        ["docker", "run", "--rm", "-v", f"{REPO}:/src:ro", "-v", f"{output}:/out", "-w", "/src",
         "-e", "HOME=/tmp", "-e", "LSSO_CACHE_DIR=/tmp/cache", "--entrypoint", "python3", image,
         "-m", "bench", *arguments, "--output", "/out"],
        check=True,
    )  # fmt: skip
