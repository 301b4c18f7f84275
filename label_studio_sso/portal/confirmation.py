"""``/api/sso/confirm``: the page that asks before a link from elsewhere switches users.

A link from another site (or from an e-mail, a chat, a bookmark) that carries a token
for someone other than the logged-in user is redeemed but not obeyed: the browser lands
here and the person chooses. Choosing is a POST protected by Django's own CSRF check
(Label Studio switches it off for its views; this one opts back in as Label Studio's
login form does), and the page cannot be framed by other sites.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.middleware.csrf import get_token
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.views.decorators.csrf import csrf_protect

from ..http import landing_path, mark_token_response, method_not_allowed
from .login import confirm_pending_login, decline_pending_login, pending_login

SWITCH, STAY = "switch", "stay"
PAGE_POLICY = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'self'"


def confirmation_url(next_path: str) -> str | None:
    """Where a held switch is confirmed, or None where the SSO URLs are not installed."""
    try:
        return f"{reverse('label_studio_sso:confirm')}?{urlencode({'next': next_path})}"
    except NoReverseMatch:
        return None


def _confirm_view(request: HttpRequest) -> HttpResponseBase:
    next_path = landing_path(request)
    if request.method == "POST":
        if request.POST.get("choice") == SWITCH:
            outcome = confirm_pending_login(request)
            landing = HttpResponseRedirect(next_path) if outcome.logged_in else redirect_to_login(next_path)
            return mark_token_response(landing, outcome.reason)
        decline_pending_login(request)
        return mark_token_response(HttpResponseRedirect(next_path))
    if request.method not in ("GET", "HEAD"):
        return method_not_allowed("GET", "HEAD", "POST")
    pending = pending_login(request)
    if pending is None:
        return mark_token_response(HttpResponseRedirect(next_path))
    page = mark_token_response(HttpResponse(_page(request, pending.current_user.email, pending.user.email)))
    page["Content-Security-Policy"] = PAGE_POLICY
    # Under no-referrer a browser posts the form with "Origin: null", which the origin and
    # CSRF checks rightly refuse; the page's URL carries no token, so same-origin is safe.
    page["Referrer-Policy"] = "same-origin"
    return page


def _page(request: HttpRequest, current_email: str, new_email: str) -> str:
    return format_html(
        """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Switch Label Studio account?</title>
<style>
body {{ font-family: system-ui, sans-serif; background: #f6f6f6; margin: 0; }}
main {{ max-width: 32rem; margin: 4rem auto; background: #fff; padding: 2rem; border-radius: 8px;
       box-shadow: 0 1px 4px rgba(0,0,0,.15); }}
button {{ font-size: 1rem; padding: .6rem 1rem; margin: .5rem .5rem 0 0; border-radius: 4px;
         border: 1px solid #888; background: #fff; cursor: pointer; }}
button[value="{switch}"] {{ background: #0b57d0; border-color: #0b57d0; color: #fff; }}
</style></head>
<body><main>
<h1>Switch Label Studio account?</h1>
<p>This browser is signed in to Label Studio as <strong id="current-user">{current}</strong>.</p>
<p>A sign-in link from another site, an e-mail or a chat would switch it to
<strong id="new-user">{new}</strong>.</p>
<p>Continue only if you expected this, for example because you just changed users in your
company's portal. Someone else's link would make your work go into their account.</p>
<form method="post">
<input type="hidden" name="csrfmiddlewaretoken" value="{csrf}">
<button type="submit" name="choice" value="{switch}">Continue as {new}</button>
<button type="submit" name="choice" value="{stay}">Stay signed in as {current}</button>
</form>
</main></body></html>
""",
        current=current_email,
        new=new_email,
        csrf=get_token(request),
        switch=SWITCH,
        stay=STAY,
    )


confirm_view: Callable[[HttpRequest], HttpResponseBase] = csrf_protect(_confirm_view)
# Label Studio's DisableCSRF middleware reads this attribute, as on its own login form.
confirm_view._dont_enforce_csrf_checks = False  # type: ignore[attr-defined]
