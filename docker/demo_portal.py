"""A demo portal: the company application that sends its users into Label Studio.

Run from the same image: ``python3 /label-studio-sso/demo_portal.py``. Standard library
only. Users sign in to the portal by picking a demo user; the portal's server then asks
Label Studio for a login token (POST /api/sso/token with the admin's API token) each
time the user opens Label Studio (creating users Label Studio does not know yet, with
SSO_CREATE_USERS on), and hands it over by one of two transports:

- ``/launch?via=url``     redirect to the ``login_url`` (the iframe's src, or a new tab)
- ``/launch?via=cookie``  an HttpOnly ``ls_auth_token`` cookie on the shared parent domain

Tokens never appear in the portal's own pages, only in the redirect that spends them.
Signing out of the portal ends the user's Label Studio sessions too (POST /api/sso/logout).

Environment: LABEL_STUDIO_URL (server to server, e.g. http://label-studio:8080),
LABEL_STUDIO_PUBLIC_URL (what browsers use, e.g. http://ls.example.test:8080),
LABEL_STUDIO_API_TOKEN[_FILE] (a staff user's legacy API token), PORTAL_PORT (8000),
PORTAL_COOKIE_DOMAIN (e.g. .example.test, for the cookie transport), PORTAL_SECRET
(signs the portal's own session cookie; random per start if unset), LABEL_STUDIO_CA_FILE
(a CA bundle to trust Label Studio's HTTPS certificate, e.g. a self-signed one).
"""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import os
import secrets
import ssl
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from http.cookies import SimpleCookie
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import parse_qs, urlsplit
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

DEMO_USERS = (
    ("alice@example.com", "Alice, annotator"),
    ("bob@example.com", "Bob, reviewer"),
    ("carol@example.com", "Carol, deactivated in Label Studio"),
    ("dana@example.com", "Dana, new: created in Label Studio on her first login"),
)
# What the portal knows about its users, sent with each login (names are refreshed).
PROFILES = {
    "alice@example.com": ("Alice", "Annotator"),
    "bob@example.com": ("Bob", "Reviewer"),
    "carol@example.com": ("Carol", "Former"),
    "dana@example.com": ("Dana", "Newcomer"),
}
DEMO_PROJECT = "Demo project"


def setting(name: str, default: str = "") -> str:
    path = os.environ.get(f"{name}_FILE")
    if path:
        with open(path, encoding="utf-8") as secret:
            return secret.read().strip()
    return os.environ.get(name, default)


LABEL_STUDIO_URL = setting("LABEL_STUDIO_URL", "http://127.0.0.1:8080").rstrip("/")
PUBLIC_URL = setting("LABEL_STUDIO_PUBLIC_URL", LABEL_STUDIO_URL).rstrip("/")
API_TOKEN = setting("LABEL_STUDIO_API_TOKEN")
COOKIE_DOMAIN = setting("PORTAL_COOKIE_DOMAIN")
SECRET = (setting("PORTAL_SECRET") or secrets.token_hex(32)).encode()
TLS = ssl.create_default_context(cafile=setting("LABEL_STUDIO_CA_FILE") or None)
Response = tuple[str, list[tuple[str, str]], bytes]


# --- talking to Label Studio, server to server -------------------------------------------


def label_studio(method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(  # noqa: S310  (LABEL_STUDIO_URL is configuration, http or https)
        LABEL_STUDIO_URL + path,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Token {API_TOKEN}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30, context=TLS) as answer:  # noqa: S310
            return answer.status, _json(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, _json(error.read())
    except OSError:  # unreachable, refused, timed out, TLS failure
        return 0, None


def _json(body: bytes) -> Any:
    try:
        return json.loads(body or b"null")
    except ValueError:
        return None


_demo_project: list[str] = []  # found once, then remembered: the project does not move


def demo_project_path() -> str:
    """The demo project's data page: the deep link the portal sends users to."""
    if _demo_project:
        return _demo_project[0]
    status, projects = label_studio("GET", "/api/projects/?page_size=100")
    results = projects.get("results", []) if status == 200 and isinstance(projects, dict) else []
    for project in results:
        if project.get("title") == DEMO_PROJECT:
            _demo_project.append(f"/projects/{project['id']}/data")
            return _demo_project[0]
    return "/projects/"


def login_token(email: str, next_path: str) -> tuple[dict[str, Any] | None, str]:
    """(answer, "") from the token API, or (None, a reason to show the user)."""
    first_name, last_name = PROFILES[email]
    body = {"email": email, "next": next_path, "create": True, "first_name": first_name}
    body["last_name"] = last_name
    status, answer = label_studio("POST", "/api/sso/token", body)
    if status == 200:
        return answer, ""
    if status == 0:
        return None, "Label Studio is unreachable; try again shortly"
    code = answer.get("error_code", "") if isinstance(answer, dict) else ""
    return None, f"Label Studio refused the login ({status} {code})"


def end_label_studio_sessions(email: str) -> int:
    """POST /api/sso/logout: every Label Studio session of this user ends (tabs, iframes, replicas)."""
    status, _answer = label_studio("POST", "/api/sso/logout", {"email": email})
    return status


# --- the portal's own session: a signed cookie holding the signed-in email ---------------


def sign(value: str) -> str:
    return value + "|" + hmac.new(SECRET, value.encode(), hashlib.sha256).hexdigest()


def signed_in_user(environ: dict[str, Any]) -> str | None:
    cookie = SimpleCookie(environ.get("HTTP_COOKIE", "")).get("portal_user")
    if cookie is None or "|" not in cookie.value:
        return None
    value = cookie.value.rsplit("|", 1)[0]
    return value if hmac.compare_digest(sign(value), cookie.value) else None


# --- pages -------------------------------------------------------------------------------

STYLE = """body{font-family:system-ui,sans-serif;margin:0;background:#f4f5f7}
header{background:#1f2937;color:#fff;padding:12px 20px;display:flex;gap:16px;align-items:center}
header a{color:#cbd5e1} main{padding:16px 20px}
iframe{width:100%;height:640px;border:1px solid #cbd5e1;background:#fff}
button{font-size:15px;margin:6px 0;padding:8px 14px} .error{color:#b91c1c}"""


def page(title: str, body: str) -> bytes:
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{STYLE}</style></head><body>{body}</body></html>"
    ).encode()


def sign_in_page(error: str = "") -> Response:
    buttons = "".join(
        "<form method='post' action='/signin'>"
        f"<input type='hidden' name='email' value='{html.escape(email)}'>"
        f"<button type='submit'>Sign in as {html.escape(name)}</button></form>"
        for email, name in DEMO_USERS
    )
    message = f"<p class='error'>{html.escape(error)}</p>" if error else ""
    body = f"<header><strong>Demo portal</strong></header><main><h1>Sign in</h1>{message}{buttons}</main>"
    return "200 OK", [("Content-Type", "text/html; charset=utf-8")], page("Demo portal", body)


def app_page(email: str, via: str) -> Response:
    frame_src = f"/launch?via={via}" if via in ("url", "cookie") else "/launch?via=url"
    body = (
        f"<header><strong>Demo portal</strong><span id='who'>{html.escape(email)}</span>"
        f"<a href='/app?via=url'>embed via login URL</a><a href='/app?via=cookie'>embed via cookie</a>"
        "<a id='new-tab' href='/launch?via=url' target='_blank' rel='noopener'>"
        "open Label Studio in a new tab</a>"
        f"<a href='/signout'>sign out</a></header>"
        "<main><iframe id='label-studio' title='Label Studio' "
        f"src='{html.escape(frame_src)}'></iframe></main>"
    )
    return "200 OK", [("Content-Type", "text/html; charset=utf-8")], page("Demo portal", body)


def launch(email: str, via: str) -> Response:
    """Mint a token now, spend it at once: a redirect to login_url, or a cookie + redirect."""
    deep_link = demo_project_path()
    answer, error = login_token(email, deep_link)
    if answer is None:
        return (
            "200 OK",
            [("Content-Type", "text/html; charset=utf-8")],
            page("Refused", f"<main><p class='error' id='refused'>{html.escape(error)}</p></main>"),
        )
    # The origin only, never a path: Label Studio switches users without asking when the
    # request comes from a portal it knows (SSO_FRAME_ANCESTORS), by this Referer.
    headers = [("Cache-Control", "no-store"), ("Referrer-Policy", "strict-origin")]
    if via == "cookie":
        parts = [f"ls_auth_token={answer['token']}", "Path=/", "HttpOnly", f"Max-Age={answer['expires_in']}"]
        if COOKIE_DOMAIN:
            parts.append(f"Domain={COOKIE_DOMAIN}")
        if PUBLIC_URL.startswith("https://"):
            parts += ["Secure", "SameSite=None"]
        else:
            parts.append("SameSite=Lax")
        headers.append(("Set-Cookie", "; ".join(parts)))
        return "302 Found", [*headers, ("Location", PUBLIC_URL + deep_link)], b""
    login_url = urlsplit(answer["login_url"])
    return "302 Found", [*headers, ("Location", f"{PUBLIC_URL}{login_url.path}?{login_url.query}")], b""


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    path, method = environ.get("PATH_INFO", "/"), environ["REQUEST_METHOD"]
    query = {key: values[0] for key, values in parse_qs(environ.get("QUERY_STRING", "")).items()}
    email = signed_in_user(environ)
    if path == "/signin" and method == "POST":
        length = environ.get("CONTENT_LENGTH") or "0"
        size = min(int(length), 4096) if length.isdigit() else 0
        chosen = parse_qs(environ["wsgi.input"].read(size).decode(errors="replace")).get("email", [""])[0]
        if chosen not in {address for address, _ in DEMO_USERS}:
            status, headers, body = sign_in_page("Pick one of the demo users.")
        else:
            cookie = f"portal_user={sign(chosen)}; Path=/; HttpOnly; SameSite=Lax"
            status, headers, body = "302 Found", [("Set-Cookie", cookie), ("Location", "/app")], b""
    elif path == "/signout":
        if email is not None:
            end_label_studio_sessions(email)  # signed out of the portal: out of Label Studio too
        status, headers, body = (
            "302 Found",
            [("Set-Cookie", "portal_user=; Path=/; Max-Age=0"), ("Location", "/")],
            b"",
        )
    elif path in ("/app", "/launch") and email is None:
        status, headers, body = "302 Found", [("Location", "/")], b""
    elif path == "/app":
        status, headers, body = app_page(email, query.get("via", "url"))
    elif path == "/launch":
        status, headers, body = launch(email, query.get("via", "url"))
    elif path == "/":
        status, headers, body = sign_in_page()
    else:
        status, headers, body = "404 Not Found", [("Content-Type", "text/plain")], b"not found\n"
    start_response(status, headers)
    return [body]


class ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True  # a page and its iframe load at once


class QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        path = self.path.split("?", 1)[0]  # the portal never logs query strings either
        sys.stderr.write(f"portal: {self.command} {path} {code}\n")


if __name__ == "__main__":
    if not API_TOKEN:
        sys.stderr.write("portal: error: LABEL_STUDIO_API_TOKEN (or _FILE) is required\n")
        sys.exit(64)
    port = int(os.environ.get("PORTAL_PORT", "8000"))
    address = os.environ.get("PORTAL_LISTEN_ADDRESS", "0.0.0.0")  # noqa: S104
    sys.stderr.write(f"portal: serving on {address}:{port}; Label Studio at {PUBLIC_URL}\n")
    make_server(address, port, application, ThreadingServer, QuietHandler).serve_forever()
