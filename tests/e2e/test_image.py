"""The image, run as a platform engineer would: docker run with environment variables."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests

import label_studio_sso
from label_studio_sso.portal.keys import derive_key
from tests.e2e.support.containers import (
    ADMIN_TOKEN,
    LABEL_STUDIO_RELEASE,
    USERS_SCRIPT,
    LabelStudio,
    assert_no_token_in,
    user_id_of,
    whoami,
)
from tests.support.hostile_tokens import assemble, claims, keys_for
from tests.support.repository import REPO

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def label_studio(start_label_studio: Any) -> Iterator[LabelStudio]:
    """One SQLite container with an admin (legacy token), alice and bob."""
    server = start_label_studio()
    server.exec_python(USERS_SCRIPT)
    server.tokens: list[str] = []
    yield server
    assert_no_token_in(server.logs(), server.tokens)


def issue(server: LabelStudio, email: str, **body: Any) -> dict[str, Any]:
    response = server.issue(email, **body)
    assert response.status_code == 200, response.text
    server.tokens.append(response.json()["token"])
    return response.json()


def inspect(image: str) -> dict[str, Any]:
    return json.loads(
        subprocess.run(["docker", "image", "inspect", image], capture_output=True, check=True).stdout
    )[0]


def test_the_image_runs_as_uid_1001_on_port_8080_with_a_healthcheck_and_labels(sso_image: str) -> None:
    config = inspect(sso_image)["Config"]
    assert config["User"] == "1001"
    assert "8080/tcp" in config["ExposedPorts"]
    assert config["Healthcheck"]["Test"][-1] == "/label-studio-sso/healthcheck.py"
    labels = config["Labels"]
    assert labels["org.opencontainers.image.version"] == label_studio_sso.__version__  # from the Dockerfile
    assert labels["org.opencontainers.image.source"].startswith("https://")
    assert labels["org.opencontainers.image.base.name"].endswith(f":{LABEL_STUDIO_RELEASE}")
    revision = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=REPO)
    if revision.returncode == 0:  # a checkout: the image says which commit it was built from
        assert labels["org.opencontainers.image.revision"] == revision.stdout.strip()


def test_the_sso_layers_add_less_than_26_mb_to_their_base_and_keep_no_wheel(sso_image: str) -> None:
    image = inspect(sso_image)
    base = inspect(image["Config"]["Labels"]["org.opencontainers.image.base.name"])
    # this package, the pinned gunicorn, Authlib and joserfc (about 5.3 MB), for SCIM
    # scim2-models, lark, email-validator and dnspython (about 6 MB), for SAML python3-saml
    # and xmlsec (about 13 MB, xmlsec's extension module 12 MB of it): 23.6 MB measured
    assert image["Size"] - base["Size"] < 26_000_000
    added = image["RootFS"]["Layers"][len(base["RootFS"]["Layers"]) :]
    assert 1 <= len(added) <= 2  # the installed package and gunicorn; the scripts in docker/
    leftovers = "ls -d /src /tmp/* 2>/dev/null; find /opt/label-studio-sso /label-studio-sso -name '*.whl'"
    shown = subprocess.run(
        ["docker", "run", "--rm", "--entrypoint", "sh", sso_image, "-c", leftovers],
        capture_output=True,
        text=True,
    ).stdout.split()
    assert shown == []


def test_a_legacy_token_and_a_personal_access_token_both_issue(label_studio: LabelStudio) -> None:
    assert issue(label_studio, "alice@example.com")["expires_in"] == 600
    created = requests.post(
        f"{label_studio.url}/api/token/", headers={"Authorization": f"Token {ADMIN_TOKEN}"}, timeout=30
    )
    refresh = created.json()["token"] if created.status_code == 201 else None
    if refresh is None:  # a PAT already exists from an earlier run of this module's container
        refresh = requests.post(
            f"{label_studio.url}/api/token/rotate/",
            headers={"Authorization": f"Token {ADMIN_TOKEN}"},
            timeout=30,
        ).json()["refresh"]
    access = requests.post(
        f"{label_studio.url}/api/token/refresh/", json={"refresh": refresh}, timeout=30
    ).json()
    response = label_studio.issue("alice@example.com", auth=f"Bearer {access['access']}")
    assert response.status_code == 200
    label_studio.tokens.append(response.json()["token"])


def test_cookie_login_gives_a_session_that_calls_the_api_and_the_cookie_is_gone(
    label_studio: LabelStudio,
) -> None:
    browser = requests.Session()
    browser.cookies.set("ls_auth_token", issue(label_studio, "alice@example.com")["token"])

    first = browser.get(f"{label_studio.url}/api/projects/", allow_redirects=False, timeout=30)

    assert (first.status_code, first.headers["Location"]) == (302, "/api/projects/")
    assert first.headers["X-Label-Studio-SSO"] == "logged-in"
    assert 'ls_auth_token=""' in first.headers["Set-Cookie"]
    assert "Max-Age=0" in first.headers["Set-Cookie"]
    browser.cookies.clear(domain="", path="/", name="ls_auth_token")  # what a browser does on Max-Age=0
    assert browser.get(f"{label_studio.url}/api/projects/", timeout=30).status_code == 200
    created = browser.post(
        f"{label_studio.url}/api/projects/",
        json={"title": "alice's"},
        headers={"Origin": label_studio.url},
        timeout=30,
    )
    assert created.status_code == 201
    assert whoami(label_studio, browser) == "alice@example.com"


def test_user_switching_in_one_browser(label_studio: LabelStudio) -> None:
    browser = requests.Session()
    browser.headers["Sec-Fetch-Site"] = "same-site"  # as a browser sends it, coming from the portal
    browser.get(issue(label_studio, "alice@example.com")["login_url"], timeout=30)
    browser.get(issue(label_studio, "bob@example.com")["login_url"], timeout=30)
    assert whoami(label_studio, browser) == "bob@example.com"


def test_url_login_strips_the_token_and_keeps_the_deep_link(label_studio: LabelStudio) -> None:
    token = issue(label_studio, "alice@example.com")["token"]
    browser = requests.Session()

    response = browser.get(
        f"{label_studio.url}/projects/1/data?tab=2&token={token}", allow_redirects=False, timeout=30
    )

    assert response.status_code == 302
    assert response.headers["Location"] == "/projects/1/data?tab=2"
    assert whoami(label_studio, browser) == "alice@example.com"


def test_the_login_url_lands_on_next_and_a_replay_on_the_login_page(label_studio: LabelStudio) -> None:
    body = issue(label_studio, "bob@example.com", next="/projects/")
    browser = requests.Session()

    landed = browser.get(body["login_url"], allow_redirects=False, timeout=30)
    replayed = requests.get(body["login_url"], allow_redirects=False, timeout=30)

    assert landed.headers["Location"] == "/projects/"
    assert whoami(label_studio, browser) == "bob@example.com"
    assert replayed.headers["X-Label-Studio-SSO"] == "replayed"
    assert replayed.headers["Location"].startswith("/user/login/")


def test_a_non_staff_caller_is_refused(label_studio: LabelStudio) -> None:
    alice_key = label_studio.exec_python(
        "from rest_framework.authtoken.models import Token; from users.models import User; "
        "print('KEY=' + Token.objects.get_or_create(user=User.objects.get(email='alice@example.com'))[0].key)"
    )
    key = alice_key.split("KEY=")[1].split()[0]
    response = label_studio.issue("bob@example.com", auth=f"Token {key}")
    assert (response.status_code, response.json()["error_code"]) == (403, "PERMISSION_DENIED")


def test_a_restart_keeps_users_sessions_and_redeemed_tokens(label_studio: LabelStudio) -> None:
    body = issue(label_studio, "alice@example.com")
    browser = requests.Session()
    browser.get(body["login_url"], timeout=30)

    label_studio.restart()

    assert whoami(label_studio, browser) == "alice@example.com"
    assert (
        requests.get(body["login_url"], allow_redirects=False, timeout=30).headers["X-Label-Studio-SSO"]
        == "replayed"
    )


def test_the_start_log_shows_the_configuration_with_secrets_masked(label_studio: LabelStudio) -> None:
    logs = label_studio.logs()
    assert "entrypoint: SSO_TOKEN_EXPIRY=600 (default)" in logs
    assert "entrypoint: SECRET_KEY=(generated and kept in the data directory)" in logs
    assert "entrypoint: starting gunicorn on 127.0.0.1:" in logs
    assert "Admin-password-123" not in logs


def test_the_image_phones_nowhere_by_default(label_studio: LabelStudio) -> None:
    output = label_studio.exec_python(
        "from django.conf import settings as s; "
        "print('QUIET', s.SENTRY_DSN == '', s.FRONTEND_SENTRY_DSN == '', "
        "s.LATEST_VERSION_CHECK, s.COLLECT_ANALYTICS)"
    )
    assert "QUIET True True False False" in output


def test_an_expired_token_is_refused(start_label_studio: Any) -> None:
    secret_key = "e2e-expiry-secret-key-0123456789-abcdefghijklmnopqrst"
    server = start_label_studio({"SECRET_KEY": secret_key, "SSO_CLOCK_SKEW": "0"})
    keys = keys_for(secret_key)
    now = int(time.time())
    admin_id = user_id_of(server, "admin@example.com")
    expired = claims(admin_id, "admin@example.com", iat=now - 700, nbf=now - 700, exp=now - 100)
    token = assemble({"alg": "HS256", "typ": "JWT", "kid": keys.kid}, expired, keys.secret)
    response = requests.get(f"{server.url}/api/sso/login?token={token}", allow_redirects=False, timeout=30)
    assert response.headers["X-Label-Studio-SSO"] == "expired"


def test_secret_key_file_is_read_and_used(start_label_studio: Any, tmp_path: Path) -> None:
    secret = "e2e-secret-key-from-a-file-0123456789-abcdefghijklmnop"
    secret_file = tmp_path / "secret_key"
    secret_file.write_text(secret + "\n")
    secret_file.chmod(0o644)
    server = start_label_studio({"SECRET_KEY_FILE": "/run/secrets/secret_key"}, wait=False)
    server.container.stop()
    server.container.with_volume_mapping(str(secret_file), "/run/secrets/secret_key", "ro")
    server.start()

    token = server.issue("admin@example.com").json()["token"]

    header = jwt.get_unverified_header(token)
    jwt.decode(token, derive_key(secret), algorithms=["HS256"], audience="label-studio-sso:login")
    assert header["alg"] == "HS256"
    assert secret not in server.logs()
