"""Real Chromium drives the demo portal, which embeds Label Studio in an iframe.

portal.example.test and ls.example.test are two sites on one machine (Chromium's
host-resolver rules map *.example.test to 127.0.0.1). Screenshots of every step go to
test-output/browser/; the portal-with-Label-Studio screenshot is also the README's.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.e2e.support.browser import SHOTS, demo_task, submit_positive
from tests.e2e.support.containers import (
    ADMIN_TOKEN,
    LabelStudio,
    Portal,
    free_port,
    label_studio_frame,
    serve_page,
)
from tests.support.repository import REPO

pytestmark = pytest.mark.e2e

# The README's picture; a run rewrites it only when asked (UPDATE_README_SCREENSHOT=1).
README_SHOT = REPO / "docs" / "demo-portal.png"


@pytest.fixture(scope="module")
def demo(start_label_studio: Any, sso_image: str) -> Iterator[tuple[LabelStudio, Portal]]:
    """Label Studio (with the demo users and project) and the portal that embeds it."""
    ls_port, portal_port = free_port(), free_port()
    public = f"http://ls.example.test:{ls_port}"
    server = start_label_studio(
        {
            "LSSO_DEMO_DATA": "true",
            "LABEL_STUDIO_HOST": public,
            "JWT_SSO_COOKIE_DOMAIN": ".example.test",  # as the portal sets it, so deletion matches
            "SSO_FRAME_ANCESTORS": f"http://portal.example.test:{portal_port}",
            "DISABLE_SIGNUP_WITHOUT_LINK": "true",  # sign-up works through an invite link only
            "SSO_CREATE_USERS": "true",  # dana, unknown to Label Studio, is created on her first login
        },
        port=ls_port,
    )
    portal = Portal(sso_image, server, public, portal_port).start()
    yield server, portal
    portal.container.stop()


def whoami(frame: Any) -> Any:
    return frame.evaluate("fetch('/api/current-user/whoami').then(r => r.ok ? r.json() : null)")


def signed_in_frame(page: Any, portal: Portal, name: str) -> Any:
    """Sign in at the portal as the demo user ``name``; the Label Studio iframe on the demo project."""
    page.goto(f"{portal.url}/")
    page.get_by_role("button", name=re.compile(f"Sign in as {name}")).click()
    return label_studio_frame(page, r"/projects/\d+/data")


def test_alice_lands_in_label_studio_inside_the_iframe_already_logged_in(page: Any, demo: Any) -> None:
    server, portal = demo
    page.goto(f"{portal.url}/")
    page.get_by_role("button", name=re.compile("Sign in as Alice")).click()

    frame = label_studio_frame(page, r"http://ls\.example\.test:\d+/projects/\d+/data")

    assert "token" not in frame.url
    assert whoami(frame)["email"] == "alice@example.com"
    frame.wait_for_selector("text=Demo project", timeout=60000)
    cookies = {
        cookie["name"] for cookie in page.context.cookies(server.url.replace("127.0.0.1", "ls.example.test"))
    }
    assert "ls_auth_token" not in cookies
    frame.wait_for_load_state("networkidle")  # Label Studio's data manager has its data
    shot = README_SHOT if os.environ.get("UPDATE_README_SCREENSHOT") == "1" else SHOTS / "demo-portal.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shot))
    assert shot.stat().st_size < 500_000


def test_switching_to_bob_in_the_same_browser_switches_label_studio_too(page: Any, demo: Any) -> None:
    _server, portal = demo
    page.goto(f"{portal.url}/")
    page.get_by_role("button", name=re.compile("Sign in as Alice")).click()
    assert whoami(label_studio_frame(page, r"/projects/\d+/data"))["email"] == "alice@example.com"

    page.goto(f"{portal.url}/signout")
    page.get_by_role("button", name=re.compile("Sign in as Bob")).click()

    assert whoami(label_studio_frame(page, r"/projects/\d+/data"))["email"] == "bob@example.com"


def test_the_shared_domain_cookie_transport_logs_in_and_the_cookie_is_gone(page: Any, demo: Any) -> None:
    _server, portal = demo
    page.goto(f"{portal.url}/")
    page.get_by_role("button", name=re.compile("Sign in as Bob")).click()
    page.goto(f"{portal.url}/app?via=cookie")

    frame = label_studio_frame(page, r"http://ls\.example\.test:\d+/projects/\d+/data")

    assert whoami(frame)["email"] == "bob@example.com"
    assert "ls_auth_token" not in {cookie["name"] for cookie in page.context.cookies()}


def test_the_new_tab_link_opens_label_studio_logged_in(page: Any, demo: Any) -> None:
    _server, portal = demo
    page.goto(f"{portal.url}/")
    page.get_by_role("button", name=re.compile("Sign in as Alice")).click()
    with page.context.expect_page() as opened:
        page.click("#new-tab")
    tab = opened.value
    tab.wait_for_url(re.compile(r"http://ls\.example\.test:\d+/projects/\d+/data"), timeout=60000)
    assert whoami(tab)["email"] == "alice@example.com"


def test_a_deactivated_user_sees_the_refusal_not_label_studio(page: Any, demo: Any) -> None:
    _server, portal = demo
    page.goto(f"{portal.url}/")
    page.get_by_role("button", name=re.compile("Sign in as Carol")).click()
    frame = page.frame_locator("iframe#label-studio")
    assert "USER_INACTIVE" in frame.locator("#refused").inner_text(timeout=30000)


def test_a_replayed_login_link_lands_on_label_studios_login_page(page: Any, demo: Any) -> None:
    server, _portal = demo
    answer = requests.post(
        f"{server.url}/api/sso/token",
        json={"email": "alice@example.com"},
        headers={"Authorization": f"Token {ADMIN_TOKEN}"},
        timeout=30,
    ).json()
    login_url = answer["login_url"]
    requests.get(login_url.replace("ls.example.test", "127.0.0.1"), allow_redirects=False, timeout=30)

    page.goto(login_url)

    page.wait_for_url(re.compile(r"/user/login/"), timeout=60000)
    assert page.locator("input[type=password]").count() == 1


@pytest.fixture
def other_site(demo: Any) -> Iterator[str]:
    """other.example.test: a page that embeds Label Studio without being allowed to."""
    server, _portal = demo
    target = server.url.replace("127.0.0.1", "ls.example.test")
    with serve_page(
        f"<html><body><iframe id='embedded' src='{target}/projects/'></iframe></body></html>"
    ) as port:
        yield f"http://other.example.test:{port}"


def test_frame_ancestors_lets_the_portal_embed_but_another_origin_is_refused(
    page: Any, other_site: str
) -> None:
    page.goto(f"{other_site}/")  # waits for the load event of the page and of its iframe
    embedded = page.frames[1]
    assert embedded.url.startswith("chrome-error://") or embedded.evaluate("document.body.innerText") == ""


def ls_whoami(page: Any, server: LabelStudio) -> Any:
    """Who Label Studio says the page's browser is, asked with the browser's own cookies."""
    cookies = page.context.cookies(server.url.replace("127.0.0.1", "ls.example.test"))
    answer = requests.get(
        f"{server.url}/api/current-user/whoami",
        cookies={cookie["name"]: cookie["value"] for cookie in cookies},
        timeout=30,
    )
    return answer.json()["email"] if answer.ok else None


@pytest.fixture
def attacker_link(demo: Any) -> Iterator[Any]:
    """A page on another site whose link carries bob's own unredeemed login link (login CSRF)."""
    server, _portal = demo
    with contextlib.ExitStack() as pages:

        def page_for(next_path: str) -> str:
            login_url = server.issue("bob@example.com", next=next_path).json()["login_url"]
            body = f"<html><body><a id='go' href='{login_url}'>a cute cat</a></body></html>"
            return f"http://www.evil.test:{pages.enter_context(serve_page(body))}/"

        yield page_for


def test_a_link_from_another_site_cannot_silently_switch_alice_to_the_attackers_account(
    page: Any, demo: Any, attacker_link: Any
) -> None:
    server, portal = demo
    assert whoami(signed_in_frame(page, portal, "Alice"))["email"] == "alice@example.com"

    page.goto(attacker_link("/projects/"))
    page.click("#go")

    page.wait_for_url(re.compile(r"http://ls\.example\.test:\d+/api/sso/confirm"), timeout=60000)
    assert page.locator("#current-user").inner_text() == "alice@example.com"
    assert page.locator("#new-user").inner_text() == "bob@example.com"
    assert ls_whoami(page, server) == "alice@example.com"
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "login-csrf-confirmation.png"))
    page.get_by_role("button", name=re.compile("Stay signed in as alice")).click()
    # the path itself, not the confirmation page's ?next=/projects/ (a match before the POST)
    page.wait_for_url(re.compile(r"^http://ls\.example\.test:\d+/projects/"), timeout=60000)
    assert ls_whoami(page, server) == "alice@example.com"

    page.goto(attacker_link("/projects/"))
    page.click("#go")
    page.get_by_role("button", name=re.compile("Continue as bob")).click()
    page.wait_for_url(re.compile(r"^http://ls\.example\.test:\d+/projects/"), timeout=60000)
    assert ls_whoami(page, server) == "bob@example.com"  # a person who means it can still switch


def test_a_new_member_signs_up_through_label_studios_invite_link_with_sso_on(page: Any, demo: Any) -> None:
    server, _portal = demo
    invite = requests.get(
        f"{server.url}/api/invite", headers={"Authorization": f"Token {ADMIN_TOKEN}"}, timeout=30
    ).json()["invite_url"]
    public = server.url.replace("127.0.0.1", "ls.example.test")

    page.goto(f"{public}{invite}")

    assert "token=" in page.url  # the invitation stays in the address and in the form
    page.fill("input[name=email]", "newcomer@example.com")
    page.fill("input[name=password]", "Newcomer-password-123")
    page.locator("form#signup-form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/projects|/$"), timeout=60000)
    assert ls_whoami(page, server) == "newcomer@example.com"


def test_a_portal_user_unknown_to_label_studio_lands_created_and_annotates(page: Any, demo: Any) -> None:
    server, portal = demo
    project, task = demo_task(server, "A fine day.")

    frame = signed_in_frame(page, portal, "Dana")
    me = whoami(frame)
    assert (me["email"], me["first_name"]) == ("dana@example.com", "Dana")

    frame.goto(re.sub(r"/projects/.*", f"/projects/{project['id']}/data?task={task['id']}", frame.url))
    annotations = submit_positive(frame, server, task["id"])
    assert annotations[0]["completed_by"] == me["id"]
    assert annotations[0]["result"][0]["value"]["choices"] == ["Positive"]


def test_deactivating_a_user_in_label_studios_admin_ends_their_open_session(
    page: Any, browser: Any, demo: Any
) -> None:
    server, portal = demo
    frame = signed_in_frame(page, portal, "Bob")
    assert whoami(frame)["email"] == "bob@example.com"
    made_superuser = server.exec_python(  # Django's admin is for superusers
        "from users.models import User\n"
        "admin = User.objects.get(email='admin@example.com')\n"
        "admin.is_superuser = admin.is_staff = True\n"
        "admin.set_password('Admin-password-123')\n"
        "admin.save()\n"
        "print(User.objects.get(email='bob@example.com').pk)\n"
    )
    bob_id = int(made_superuser.strip().splitlines()[-1])
    administrator = browser.new_context().new_page()
    ls = server.url.replace("127.0.0.1", "ls.example.test")
    try:
        administrator.goto(f"{ls}/user/login/")  # Label Studio's own login page, then its Django admin
        administrator.fill("input[name=email]", "admin@example.com")
        administrator.fill("input[name=password]", "Admin-password-123")
        administrator.locator("form button[type=submit], form input[type=submit]").first.click()
        administrator.wait_for_url(lambda url: "/user/login" not in url, timeout=60000)
        administrator.goto(f"{ls}/admin/users/user/{bob_id}/change/")
        if not administrator.input_value("input[name=username]"):  # the demo data leaves it empty
            administrator.fill("input[name=username]", "bob")
        administrator.uncheck("input[name=is_active]", timeout=60000)
        administrator.click("input[name=_save]")
        administrator.wait_for_url(re.compile(r"/admin/users/user/(\?|$)"), timeout=60000)
    finally:
        administrator.screenshot(path=str(SHOTS / "django-admin-deactivates-bob.png"))

    assert whoami(frame) is None
    server.exec_python(  # bob is active again (for the tests after this one); his old session is not
        "from users.models import User\nUser.objects.filter(email='bob@example.com').update(is_active=True)\n"
    )
    assert whoami(frame) is None
    frame.goto(frame.url)
    assert "/user/login/" in frame.url
