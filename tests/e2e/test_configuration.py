"""Every invalid configuration stops the container with exit 64 and one line naming it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from testcontainers.core.container import DockerContainer

import label_studio_sso
from tests.support.configuration_cases import EMPTY_MEANS, every_variable, invalid_cases

pytestmark = pytest.mark.e2e

SHARED = {"DJANGO_DB": "postgresql", "POSTGRE_HOST": "127.0.0.1", "POSTGRE_PORT": "1"}


def run_until_exit(
    sso_image: str, env: dict[str, str], volumes: tuple[tuple[str, str], ...] = ()
) -> tuple[int, str]:
    container = DockerContainer(sso_image).with_kwargs(network_mode="host")
    for name, value in env.items():
        container.with_env(name, value)
    for host, inside in volumes:
        container.with_volume_mapping(host, inside, "ro")
    container.start()
    try:
        status = container.get_wrapped_container().wait(timeout=120)["StatusCode"]
        stdout, stderr = container.get_logs()
        return status, (stdout + stderr).decode(errors="replace")
    finally:
        container.stop()


@pytest.mark.parametrize(
    ("env", "line"),
    [
        (
            {"SSO_TOKEN_EXPIRY": "5"},
            "entrypoint: error: SSO_TOKEN_EXPIRY='5' is not allowed: whole seconds from 10 to 86400",
        ),
        ({"SSO_TOKEN_EXPIRY": ""}, "entrypoint: error: SSO_TOKEN_EXPIRY='' is not allowed"),
        (
            {"SSO_SINGLE_USE": "perhaps"},
            "entrypoint: error: SSO_SINGLE_USE='perhaps' is not allowed: true or false",
        ),
        (
            {"SSO_SIGNING_KEY": "too-short"},
            "entrypoint: error: SSO_SIGNING_KEY='****' (9 chars) is not allowed",
        ),
        (
            {"SSO_TOKEN_ISSUER_PERMISSION": "everyone"},
            "entrypoint: error: SSO_TOKEN_ISSUER_PERMISSION='everyone'",
        ),
        (
            {"SSO_FRAME_ANCESTORS": "portal.example.com"},
            "entrypoint: error: SSO_FRAME_ANCESTORS='portal.example.com'",
        ),
        ({"SSO_RATE_LIMIT": "lots"}, "entrypoint: error: SSO_RATE_LIMIT='lots' is not allowed"),
        ({"JWT_SSO_NATIVE_USER_ID_CLAIM": "exp"}, "entrypoint: error: JWT_SSO_NATIVE_USER_ID_CLAIM='exp'"),
        ({"PORT": "eighty"}, "entrypoint: error: PORT='eighty' is not allowed: a TCP port from 1 to 65535"),
        ({"WEB_CONCURRENCY": "0"}, "entrypoint: error: WEB_CONCURRENCY='0' is not allowed"),
        (SHARED, "entrypoint: error: SECRET_KEY is not set but DJANGO_DB uses a shared database"),
        (
            {"LABEL_STUDIO_USERNAME": "admin@example.com"},
            "entrypoint: error: LABEL_STUDIO_USERNAME is set without",
        ),
        (
            {"SECRET_KEY": "x" * 40, "SECRET_KEY_FILE": "/etc/hostname"},
            "entrypoint: error: both SECRET_KEY and SECRET_KEY_FILE",
        ),
        (
            {"SSO_SIGNING_KEY_FILE": "/nonexistent"},
            "entrypoint: error: SSO_SIGNING_KEY_FILE=/nonexistent is not a readable file",
        ),
    ],
    ids=lambda value: next(iter(value)) if isinstance(value, dict) else None,
)
def test_a_bad_configuration_exits_64_naming_the_variable(
    sso_image: str, env: dict[str, str], line: str
) -> None:
    status, logs = run_until_exit(sso_image, env)
    assert status == 64, logs[-2000:]
    assert line in logs
    assert "too-short" not in logs
    assert "Starting gunicorn" not in logs


def test_a_signing_key_from_a_file_is_validated_too(sso_image: str, tmp_path: Path) -> None:
    secret = tmp_path / "key"
    secret.write_text("short-key\n")
    secret.chmod(0o644)
    status, logs = run_until_exit(
        sso_image, {"SSO_SIGNING_KEY_FILE": "/run/secrets/key"}, ((str(secret), "/run/secrets/key"),)
    )
    assert status == 64
    assert "SSO_SIGNING_KEY='****' (9 chars) is not allowed" in logs
    assert "short-key" not in logs


def test_a_database_that_never_comes_stops_start_up_with_exit_69(sso_image: str) -> None:
    status, logs = run_until_exit(sso_image, {**SHARED, "SECRET_KEY": "s" * 40, "DB_WAIT_TIMEOUT": "2"})
    assert status == 69
    assert (
        "entrypoint: error: PostgreSQL at 127.0.0.1:1 did not accept connections within DB_WAIT_TIMEOUT=2s"
        in logs
    )


def test_a_migration_lock_held_too_long_stops_start_up_with_exit_69(sso_image: str, postgres: Any) -> None:
    """Another replica's migration that never ends: this one waits MIGRATE_LOCK_TIMEOUT, then says so."""
    with postgres.session() as other_replica:
        other_replica.execute("SELECT pg_advisory_lock(1000)")  # Label Studio's migration lock id
        env = {**postgres.environment(), "SECRET_KEY": "s" * 40, "MIGRATE_LOCK_TIMEOUT": "3"}
        status, logs = run_until_exit(sso_image, env)
    assert status == 69
    assert "another replica is migrating; waiting for its lock" in logs
    assert "entrypoint: error: another process held the migration lock 1000 for more than 3s" in logs
    assert postgres.PASSWORD not in logs


def test_any_other_command_runs_instead_of_the_server(sso_image: str) -> None:
    container = DockerContainer(sso_image).with_command(
        ["python3", "-c", "import label_studio_sso; print(label_studio_sso.__version__)"]
    )
    container.with_env("SSO_TOKEN_EXPIRY", "5")  # not validated: the server is not started
    container.start()
    try:
        assert container.get_wrapped_container().wait(timeout=60)["StatusCode"] == 0
        stdout, _stderr = container.get_logs()
        assert stdout.decode().strip() == label_studio_sso.__version__
    finally:
        container.stop()


CASE_RUNNER = """
import json, os, subprocess, sys
results = []
for case in json.loads(sys.argv[1]):
    env = {**os.environ, **case["env"]}
    command = ["/label-studio-sso/entrypoint.sh"] if case["start"] else [
        "python3", "-m", "label_studio_sso.container.environment", "check"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    results.append({"status": done.returncode, "stderr": done.stderr, "stdout": done.stdout})
print("RESULTS" + json.dumps(results))
"""


def run_cases(sso_image: str, cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Run the image's own entrypoint once per case, all inside one container."""
    container = DockerContainer(sso_image).with_command(["python3", "-c", CASE_RUNNER, json.dumps(cases)])
    container.start()
    try:
        assert container.get_wrapped_container().wait(timeout=600)["StatusCode"] == 0
        stdout, _stderr = container.get_logs()
        return json.loads(stdout.decode().split("RESULTS", 1)[1])
    finally:
        container.stop()


def test_every_variable_wrong_out_of_range_or_empty_exits_64_naming_it(sso_image: str) -> None:
    cases = invalid_cases(every_variable())
    results = run_cases(sso_image, [{"env": {name: value}, "start": True} for name, _problem, value in cases])
    failures = []
    for (name, problem, value), result in zip(cases, results, strict=True):
        lines = result["stderr"].strip().splitlines()
        named = len(lines) == 1 and lines[0].startswith(f"entrypoint: error: {name}=")
        if result["status"] != 64 or not named:
            failures.append((name, problem, value[:20], result["status"], lines[-1:] if lines else ""))
    assert failures == []
    assert len(cases) >= 50


def test_documented_empty_values_are_accepted_by_the_image(sso_image: str) -> None:
    names = sorted(EMPTY_MEANS)
    results = run_cases(sso_image, [{"env": {name: ""}, "start": False} for name in names])
    assert [result["status"] for result in results] == [0] * len(names), results


def test_every_conflicting_combination_exits_64_naming_it(sso_image: str, tmp_path: Path) -> None:
    conflicts = {
        "DJANGO_DB=postgresql without SECRET_KEY": ({"DJANGO_DB": "postgresql"}, "SECRET_KEY is not set"),
        "username without password": (
            {"LABEL_STUDIO_USERNAME": "a@example.com", "LABEL_STUDIO_PASSWORD": ""},
            "LABEL_STUDIO_USERNAME is set without LABEL_STUDIO_PASSWORD",
        ),
        "certificate without key": (
            {"TLS_CERT_FILE": "/etc/hostname"},
            "TLS_CERT_FILE and TLS_KEY_FILE go together",
        ),
        "unreadable certificate": (
            {"TLS_CERT_FILE": "/nonexistent.pem", "TLS_KEY_FILE": "/nonexistent.key"},
            "TLS_CERT_FILE=/nonexistent.pem is not a readable file",
        ),
        "a variable and its _FILE": (
            {"SECRET_KEY": "s" * 40, "SECRET_KEY_FILE": "/etc/hostname"},
            "both SECRET_KEY and SECRET_KEY_FILE are set",
        ),
        "a _FILE that does not exist": (
            {"SSO_SIGNING_KEY_FILE": "/run/secrets/missing"},
            "SSO_SIGNING_KEY_FILE=/run/secrets/missing is not a readable file",
        ),
    }
    results = run_cases(sso_image, [{"env": env, "start": True} for env, _line in conflicts.values()])
    for (name, (_env, line)), result in zip(conflicts.items(), results, strict=True):
        assert result["status"] == 64, (name, result)
        assert line in result["stderr"], (name, result["stderr"])


def test_an_image_on_an_unsupported_label_studio_release_exits_64_naming_it(
    sso_image: str, tmp_path: Path
) -> None:
    """As if built FROM a release outside 1.20.0-1.23.x: its metadata says 1.24.0, found first."""
    metadata = tmp_path / "label_studio-1.24.0.dist-info"
    metadata.mkdir()
    (metadata / "METADATA").write_text("Metadata-Version: 2.1\nName: label-studio\nVersion: 1.24.0\n")
    tmp_path.chmod(0o755)
    metadata.chmod(0o755)
    status, logs = run_until_exit(
        sso_image,
        {"PYTHONPATH": "/run/release:/opt/label-studio-sso/python"},
        ((str(tmp_path), "/run/release"),),
    )
    assert status == 64, logs[-2000:]
    assert (
        "entrypoint: error: Label Studio 1.24.0 is installed; label-studio-sso supports 1.20.0 to 1.23.x"
        in logs
    )
    assert "Traceback" not in logs
