"""The entrypoint's shell steps, sourced through its guard (no Docker needed)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.support.repository import REPO

ENTRYPOINT = REPO / "docker" / "entrypoint.sh"


def bash(script: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        key: value for key, value in os.environ.items() if not key.endswith("_FILE") and key != "SECRET_KEY"
    }
    return subprocess.run(
        ["bash", "-c", f"source {ENTRYPOINT}; {script}"],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_file_env_reads_the_secret_without_its_trailing_newline_and_unsets_the_file_variable(
    tmp_path: Path,
) -> None:
    secret = tmp_path / "secret"
    secret.write_text("s3cret value\n")
    result = bash(
        'file_env SECRET_KEY; printf "%s|%s" "$SECRET_KEY" "${SECRET_KEY_FILE-unset}"',
        SECRET_KEY_FILE=str(secret),
    )
    assert result.stdout == "s3cret value|unset"


def test_file_env_leaves_plain_variables_alone() -> None:
    assert bash('file_env SECRET_KEY; printf "%s" "$SECRET_KEY"', SECRET_KEY="plain").stdout == "plain"


def test_both_a_variable_and_its_file_is_an_error(tmp_path: Path) -> None:
    result = bash("file_env SECRET_KEY", SECRET_KEY="a", SECRET_KEY_FILE=str(tmp_path))
    assert result.returncode == 64
    assert (
        result.stderr.strip()
        == "entrypoint: error: both SECRET_KEY and SECRET_KEY_FILE are set; set only one of them"
    )


def test_a_missing_secret_file_is_an_error() -> None:
    result = bash("file_env SSO_SIGNING_KEY", SSO_SIGNING_KEY_FILE="/nonexistent/key")
    assert result.returncode == 64
    assert "SSO_SIGNING_KEY_FILE=/nonexistent/key is not a readable file" in result.stderr


def printenv_through_the_entrypoint(name: str, file: Path) -> subprocess.CompletedProcess[str]:
    """The entrypoint running ``printenv NAME`` (another command) with only ``NAME_FILE`` set."""
    return subprocess.run(
        ["bash", str(ENTRYPOINT), "printenv", name],
        env={"PATH": os.environ["PATH"], f"{name}_FILE": str(file)},
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_another_command_runs_with_the_secrets_read(tmp_path: Path) -> None:
    secret = tmp_path / "password"
    secret.write_text("db-password")
    result = printenv_through_the_entrypoint("POSTGRE_PASSWORD", secret)
    assert result.returncode == 0
    assert result.stdout.strip() == "db-password"


def test_the_portals_public_keys_can_come_from_a_file(tmp_path: Path) -> None:
    keys = tmp_path / "portal-keys.pem"
    keys.write_text("-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n")
    result = printenv_through_the_entrypoint("SSO_ISSUER_PUBLIC_KEYS", keys)
    assert result.returncode == 0
    assert result.stdout.strip() == keys.read_text().strip()


def test_postgresql_is_recognised_in_every_spelling() -> None:
    assert bash("uses_postgresql", DJANGO_DB="default").returncode == 0
    assert bash("uses_postgresql", LABEL_STUDIO_DJANGO_DB="postgresql").returncode == 0
    assert bash("uses_postgresql").returncode == 1


def test_the_heartex_spelling_selects_postgresql_like_label_studio() -> None:
    assert bash("uses_postgresql", HEARTEX_DJANGO_DB="default").returncode == 0


def test_hold_stays_up_until_sigterm_and_exits_0() -> None:
    """The official Helm chart's nginx container runs the image with this command."""
    process = subprocess.Popen(
        ["bash", str(ENTRYPOINT), "hold"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        assert "holding" in process.stdout.readline()  # up, and doing nothing else
        assert process.poll() is None
        process.terminate()
        assert process.wait(timeout=10) == 0
    finally:
        process.kill()


def test_migrate_and_the_charts_name_for_it_run_the_start_up_without_the_server() -> None:
    for command in ("migrate", "label-studio-migrate"):
        result = bash(
            f"validate_environment() {{ :; }}; wait_for_database() {{ :; }}; announce_migration() {{ :; }}; "
            f'serve() {{ echo "serve $*"; }}; _main {command}'
        )
        assert result.stdout.strip() == "serve prepare", result.stderr
    assert bash('validate_environment() { :; }; wait_for_database() { :; }; announce_migration() { :; }; '
                'serve() { echo "serve $*"; }; _main').stdout.strip() == "serve"  # fmt: skip
