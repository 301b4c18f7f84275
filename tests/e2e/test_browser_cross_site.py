"""Cross-site embedding over HTTPS: the portal and Label Studio on unrelated sites.

The portal is portal.othersite.test, Label Studio ls.example.test over HTTPS with a
throw-away certificate the test makes; Label Studio's cookies are SameSite=None; Secure.
A third, hostile site then tries to write with the logged-in user's session: the Origin
check must refuse it, while Label Studio's own UI in the iframe still writes.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.e2e.support.browser import BROWSER_ARGS, SHOTS
from tests.e2e.support.containers import (
    ADMIN_TOKEN,
    CHROMIUM,
    LabelStudio,
    Portal,
    free_port,
    label_studio_frame,
    serve_page,
)
from tests.support.certificates import make_certificates

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def cross_site(
    start_label_studio: Any, sso_image: str, tmp_path_factory: Any
) -> Iterator[tuple[LabelStudio, Portal]]:
    certificates = tmp_path_factory.mktemp("tls")
    made = make_certificates(certificates, ("ls.example.test", "127.0.0.1"))
    ls_port, portal_port = free_port(), free_port()
    public = f"https://ls.example.test:{ls_port}"
    server = start_label_studio(
        {
            "LSSO_DEMO_DATA": "true",
            "LABEL_STUDIO_HOST": public,
            "TLS_CERT_FILE": f"/tls/{made.cert_file.name}",
            "TLS_KEY_FILE": f"/tls/{made.key_file.name}",
            "SESSION_COOKIE_SAMESITE": "None",
            "SESSION_COOKIE_SECURE": "1",
            "CSRF_COOKIE_SAMESITE": "None",
            "CSRF_COOKIE_SECURE": "1",
            "SSO_FRAME_ANCESTORS": f"http://portal.othersite.test:{portal_port}",
        },
        port=ls_port,
        wait=False,
        volumes={str(certificates): "/tls"},
        scheme="https",
    )
    server.wait_until_healthy()
    portal = Portal(
        sso_image,
        server,
        public,
        portal_port,
        host="portal.othersite.test",
        PORTAL_COOKIE_DOMAIN="",
        LABEL_STUDIO_CA_FILE=f"/tls/{made.ca_file.name}",  # the portal trusts the CA that signed it
    )
    portal.container.with_volume_mapping(str(certificates), "/tls", "ro")
    portal.start()
    yield server, portal
    portal.container.stop()


def admin_projects(server: LabelStudio) -> list[str]:
    answer = requests.get(
        f"{server.url}/api/projects/?page_size=100",
        headers={"Authorization": f"Token {ADMIN_TOKEN}"},
        verify=False,
        timeout=30,
    )
    return [project["title"] for project in answer.json()["results"]]


def hostile_page(target: str) -> str:
    """evil.evil.test: a page that tries to write to Label Studio with the visitor's session."""
    return f"""<html><body>
<form id="form" method="post" action="{target}/api/projects/" target="sink">
  <input name="title" value="forged-by-form"></form>
<iframe name="sink"></iframe>
<script>
  fetch("{target}/api/projects/", {{method: "POST", mode: "no-cors", credentials: "include",
        body: new URLSearchParams({{title: "forged-by-fetch"}})}})
    .finally(() => {{ document.getElementById("form").submit(); document.title = "sent"; }});
</script></body></html>"""


@pytest.fixture
def hostile_site(cross_site: Any) -> Iterator[str]:
    server, _portal = cross_site
    with serve_page(hostile_page(server.url.replace("127.0.0.1", "ls.example.test"))) as port:
        yield f"http://evil.evil.test:{port}"


@pytest.fixture
def profile_page(tmp_path: Path, request: Any) -> Iterator[Any]:
    """A page in a browser profile whose user allows third-party cookies.

    A cross-site iframe keeps a session only where the browser allows third-party cookies:
    this Chromium blocks them by default (and always in Incognito, which is what Playwright's
    contexts are), as Safari and Firefox do. The manual (docs/deploying.md) says so and recommends a shared
    parent domain; this test shows the product's part works once the browser allows it.
    """
    import os

    from playwright.sync_api import sync_playwright

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # see the browser fixture
    preferences = tmp_path / "profile" / "Default" / "Preferences"
    preferences.parent.mkdir(parents=True)
    # The user-facing setting "Allow third-party cookies" (cookie_controls_mode 0).
    preferences.write_text(
        json.dumps({"profile": {"cookie_controls_mode": 0, "block_third_party_cookies": False}})
    )
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=str(CHROMIUM),
            headless=True,
            args=BROWSER_ARGS,
            viewport={"width": 1280, "height": 800},
        )
        page = context.new_page()
        yield page
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{request.node.name}.png"))
        context.close()
    del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


def test_cross_site_embedding_logs_in_and_a_hostile_site_cannot_write(
    profile_page: Any, cross_site: Any, hostile_site: str
) -> None:
    page = profile_page
    server, portal = cross_site
    probe = requests.get(
        f"{server.url}/api/sso/login?token={server.issue('alice@example.com').json()['token']}",
        allow_redirects=False,
        verify=False,
        timeout=30,
    )
    session_cookie = next(c for c in probe.raw.headers.getlist("Set-Cookie") if c.startswith("sessionid="))
    assert "SameSite=None" in session_cookie
    assert "Secure" in session_cookie
    page.goto(f"{portal.url}/")
    frame = label_studio_frame_as(page, "Alice")
    assert whoami_in(frame) == "alice@example.com"

    created = frame.evaluate(
        """fetch('/api/projects/', {method: 'POST', headers: {'Content-Type': 'application/json'},
                                    body: JSON.stringify({title: 'made-in-the-ui'})}).then(r => r.status)"""
    )
    assert created == 201

    attacker = page.context.new_page()
    attacker.goto(f"{hostile_site}/")
    attacker.wait_for_function("document.title === 'sent'", timeout=30000)
    refusals = "sso refused a cross-origin write: POST /api/projects/"  # the audit event
    deadline = time.monotonic() + 30
    while server.logs().count(refusals) < 2 and time.monotonic() < deadline:
        time.sleep(0.25)  # both forged writes have reached the server

    titles = admin_projects(server)
    assert "made-in-the-ui" in titles
    assert "forged-by-form" not in titles
    assert "forged-by-fetch" not in titles
    assert server.logs().count(refusals) >= 2


def test_across_sites_the_portals_own_user_switch_needs_no_confirmation(
    profile_page: Any, cross_site: Any
) -> None:
    page = profile_page
    _server, portal = cross_site
    page.goto(f"{portal.url}/")
    assert whoami_in(label_studio_frame_as(page, "Alice")) == "alice@example.com"

    page.goto(f"{portal.url}/signout")

    # the portal is in SSO_FRAME_ANCESTORS and its redirect sends its origin as Referer
    assert whoami_in(label_studio_frame_as(page, "Bob")) == "bob@example.com"


def label_studio_frame_as(page: Any, name: str) -> Any:
    """Sign in to the portal as ``name``; the iframe once Label Studio shows the demo project."""
    page.get_by_role("button", name=re.compile(f"Sign in as {name}")).click()
    return label_studio_frame(page, r"^https://ls\.example\.test:\d+/projects/\d+/data")


def whoami_in(frame: Any) -> str:
    return frame.evaluate("fetch('/api/current-user/whoami').then(r => r.json())")["email"]
