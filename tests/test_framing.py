"""SSO_FRAME_ANCESTORS: who may embed Label Studio, as an enforced CSP directive."""

from __future__ import annotations

from django.test import Client, override_settings

from label_studio_sso.guards.framing import with_frame_ancestors


def test_without_the_setting_responses_are_left_alone() -> None:
    response = Client().get("/user/login/")
    assert "frame-ancestors" not in response.get("Content-Security-Policy", "")


@override_settings(SSO_FRAME_ANCESTORS="'self' https://portal.example.com")
def test_the_setting_sends_an_enforced_frame_ancestors_directive() -> None:
    response = Client().get("/user/login/")
    assert response["Content-Security-Policy"].endswith("frame-ancestors 'self' https://portal.example.com")
    assert "X-Frame-Options" not in response


def test_an_existing_policy_keeps_its_directives_and_loses_its_own_frame_ancestors() -> None:
    policy = "default-src 'self'; frame-ancestors *; img-src data:"
    assert (
        with_frame_ancestors(policy, ("https://a.example",))
        == "default-src 'self'; img-src data:; frame-ancestors https://a.example"
    )
    assert with_frame_ancestors("", ("'none'",)) == "frame-ancestors 'none'"


@override_settings(
    SSO_FRAME_ANCESTORS="https://portal.example.com",
    MIDDLEWARE=[
        "label_studio_sso.middleware.FrameAncestorsMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
    ],
    ROOT_URLCONF="settings_overlay.urls",
)
def test_x_frame_options_cannot_contradict_the_allow_list() -> None:
    response = Client().get("/api/sso/login")
    assert "X-Frame-Options" not in response
    assert response["Content-Security-Policy"] == "frame-ancestors https://portal.example.com"
