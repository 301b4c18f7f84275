"""Real Chromium, the image, and a real SAML identity provider (samlify from npm, over HTTPS).

Label Studio runs from the built image at ls.example.test and reads the IdP's metadata at
http://localhost (Label Studio is plain HTTP here, and Chromium warns before an HTTPS page
posts a form to an HTTP site; the in-process tests run the IdP over HTTPS). The browser
clicks the button on Label Studio's own login page, signs in at the IdP, whose page posts the
response across sites to the ACS: Chromium withholds the SameSite=Lax session cookie from
that POST, so this is also the ACS's same-site re-post at work. The user lands in Label
Studio, created on that sign-in, and annotates.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.support.browser import demo_task, page_whoami, sign_in_at_the_idp_page, submit_positive
from tests.e2e.support.containers import LabelStudio, free_port
from tests.support.saml import PASSWORD, SamlIdp, running_idp

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def idp_and_label_studio(
    start_label_studio: Any, tmp_path_factory: Any
) -> Iterator[tuple[SamlIdp, LabelStudio, str]]:
    """The IdP and a Label Studio container configured for it; Label Studio's public URL."""
    port = free_port()
    public = f"http://ls.example.test:{port}"
    directory = tmp_path_factory.mktemp("saml-e2e")
    # Plain HTTP on localhost (allowed for localhost names): this Label Studio is http too.
    with running_idp(
        directory, sp_entity_id=f"{public}/sso/saml/metadata/", acs_url=f"{public}/sso/saml/acs/", tls=False
    ) as idp:
        server = start_label_studio(
            {
                "LSSO_DEMO_DATA": "true",
                "LABEL_STUDIO_HOST": public,
                "SSO_SAML_IDP_METADATA_URL": idp.metadata_url,
                "SSO_SAML_DISPLAY_NAME": "Example SAML",
                "SSO_CREATE_USERS": "true",
                "SSO_STAFF_GROUPS": "ls-admins",
            },
            port=port,
        )
        yield idp, server, public


def sign_in_at_the_idp(page: Any, login: str) -> None:
    sign_in_at_the_idp_page(page, login, PASSWORD)


def test_a_new_user_signs_in_with_the_button_and_annotates(page: Any, idp_and_label_studio: Any) -> None:
    idp, server, public = idp_and_label_studio
    project, task = demo_task(server, "Signed in with SAML.")

    page.goto(f"{public}/user/login/?next=/projects/{project['id']}/data?task={task['id']}")
    page.get_by_role("link", name="Sign in with Example SAML").click()
    page.wait_for_url(re.compile(re.escape(idp.base_url) + "/sso"))
    sign_in_at_the_idp(page, "erin")
    page.wait_for_url(re.compile(re.escape(public) + rf"/projects/{project['id']}/data"), timeout=60000)

    me = page_whoami(page)
    assert (me["email"], me["first_name"], me["last_name"]) == ("erin@example.com", "Erin", "Example")
    annotations = submit_positive(page, server, task["id"])
    assert annotations[0]["completed_by"] == me["id"]
    assert "sso login succeeded" in server.logs() and "via=saml created=yes" in server.logs()


def test_a_second_user_signs_in_at_the_same_browser_with_entra_ids_claims(
    page: Any, idp_and_label_studio: Any
) -> None:
    _idp, server, public = idp_and_label_studio
    for login, email in (("erin", "erin@example.com"), ("alice", "alice@example.com")):
        page.goto(f"{public}/sso/saml/login/?next=/projects/")
        sign_in_at_the_idp(page, login)
        # Label Studio's own pages may move on from /projects/ (its home page): wait until the
        # browser has left the sign-in (the ACS and its re-post) for a page of Label Studio's.
        page.wait_for_url(lambda url: url.startswith(public) and "/sso/saml/" not in url, timeout=60000)
        assert "/user/login/" not in page.url
        assert page_whoami(page)["email"] == email

    assert "via=saml created=yes" in server.logs()
