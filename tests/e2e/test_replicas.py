"""Two replicas on one PostgreSQL: a token is redeemed once, sessions work on both, and every
way in that creates users meets the look-alike corpus and twelve racing first logins there."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import jwt
import pytest
import requests

from tests.e2e.support.containers import (
    ADMIN_TOKEN,
    LabelStudio,
    Portal,
    assert_no_token_in,
    free_port,
    user_id_of,
    whoami,
)
from tests.support import first_login_races as races
from tests.support.confusable_emails import CASES, TARGETS
from tests.support.hostile_tokens import assemble, claims, keys_for
from tests.support.oidc import CLIENT_ID, CLIENT_SECRET, Provider, SigningKey, running_provider
from tests.support.scim import TOKEN as SCIM_TOKEN
from tests.support.scim import conformance, failing, okta_user, patch

pytestmark = pytest.mark.e2e

SHARED_SECRET = "a-secret-key-shared-by-both-replicas-0123456789abcdef"
PARALLEL = 200
USERS = 50
TOKENS_PER_USER = 10
MANY_USERS_SCRIPT = f"""
from organizations.models import Organization
from users.models import User
organization = Organization.objects.first()
for number in range({USERS}):
    email = f"user{{number:02d}}@example.com"
    if not User.objects.filter(email=email).exists():
        user = User.objects.create_user(email=email, password="Member-password-123")
        user.active_organization = organization
        user.save()
        organization.add_user(user)
"""


@pytest.fixture(scope="module")
def portal_key() -> SigningKey:
    return SigningKey.generate()


@pytest.fixture(scope="module")
def replica_ports() -> tuple[int, int]:
    return free_port(), free_port()


@pytest.fixture(scope="module")
def provider(tmp_path_factory: Any, replica_ports: tuple[int, int]) -> Iterator[Provider]:
    """The OpenID provider both replicas use; it sends browsers back to either."""
    with running_provider(
        tmp_path_factory.mktemp("replicas-provider"),
        redirect_uris=[f"http://127.0.0.1:{port}/sso/oidc/callback/" for port in replica_ports],
    ) as running:
        yield running


@pytest.fixture(scope="module")
def replicas(
    start_label_studio: Any,
    postgres: Any,
    replica_ports: tuple[int, int],
    provider: Provider,
    portal_key: SigningKey,
) -> Iterator[tuple[LabelStudio, LabelStudio]]:
    """Two containers started at the same moment on one fresh PostgreSQL database, each with
    every way in that creates users: the token API, a gateway, portal-signed tokens, OpenID
    Connect (and SCIM)."""
    env = {
        **postgres.environment(),
        "SECRET_KEY": SHARED_SECRET,
        "DB_WAIT_TIMEOUT": "30",
        "SSO_RATE_LIMIT": "999999/m",  # hundreds of tokens from one issuer below
        "SSO_CREATE_USERS": "true",
        "SSO_SCIM_TOKEN": SCIM_TOKEN,
        "SSO_TRUSTED_PROXIES": f"{races.GATEWAY_ADDRESS}/32",
        "SSO_PROXY_EMAIL_HEADER": "X-Forwarded-Email",
        "SSO_ISSUER_PUBLIC_KEYS": json.dumps({"keys": [portal_key.public_jwk()]}),
        "SSO_ISSUER": races.PORTAL_ISSUER,
        "SSO_ISSUER_AUDIENCE": races.PORTAL_AUDIENCE,
        "SSO_OIDC_ISSUER": provider.issuer,
        "SSO_OIDC_CLIENT_ID": CLIENT_ID,
        "SSO_OIDC_CLIENT_SECRET": CLIENT_SECRET,
        "REQUESTS_CA_BUNDLE": "/idp/ca.pem",
    }
    volumes = {str(provider.ca_file.parent): "/idp"}
    first, second = (
        start_label_studio(env, sqlite=False, wait=False, port=port, volumes=volumes)
        for port in replica_ports
    )
    first.wait_until_healthy(timeout=600)  # the first start migrates PostgreSQL from scratch
    second.wait_until_healthy(timeout=600)
    first.tokens, second.tokens = [], []
    yield first, second
    for server in (first, second):
        assert_no_token_in(server.logs(), first.tokens)


def test_scim_passes_the_conformance_checker_on_postgresql_and_deactivates_on_both_replicas(
    replicas: tuple[LabelStudio, LabelStudio],
) -> None:
    """First in this module: the checker finds what it made on the first page of a search."""
    first, second = replicas
    assert failing(conformance(f"{first.url}/scim/v2")) == []

    def scim(server: LabelStudio, method: str, path: str, body: Any = None) -> Any:
        headers = {"Authorization": f"Bearer {SCIM_TOKEN}", "Content-Type": "application/scim+json"}
        return requests.request(
            method, f"{server.url}/scim/v2/{path}", json=body, headers=headers, timeout=60
        )

    created = scim(first, "post", "Users", okta_user("scim-pg@example.com", "Pat", "Gres"))
    assert created.status_code == 201, created.text
    listed = scim(second, "get", "Users?filter=userName%20eq%20%22SCIM-PG@example.com%22").json()
    assert [item["id"] for item in listed["Resources"]] == [created.json()["id"]]
    browser = requests.Session()
    login = first.issue("scim-pg@example.com").json()
    first.tokens.append(login["token"])
    browser.get(f"{first.url}/?token={login['token']}", timeout=60)
    assert whoami(second, browser) == "scim-pg@example.com"

    deactivated = scim(
        second, "patch", f"Users/{created.json()['id']}", patch({"op": "replace", "value": {"active": False}})
    )

    assert deactivated.json()["active"] is False
    assert whoami(first, browser) is None and whoami(second, browser) is None


def user_emails(server: LabelStudio) -> list[str]:
    """Every user's email, from Label Studio's own API (the admin sees the whole organization)."""
    response = requests.get(
        f"{server.url}/api/users/", headers={"Authorization": f"Token {ADMIN_TOKEN}"}, timeout=60
    )
    assert response.status_code == 200, response.text
    body = response.json()
    return sorted(user["email"] for user in (body["results"] if isinstance(body, dict) else body))


def by_token_api(server: Any, sent: str) -> str:
    """Whose login token the token API issued for ``sent`` (with ``create``), or the refusal."""
    response = server.issue(sent, create=True)
    if response.status_code != 200:
        return str(response.json()["error_code"])
    server.tokens.append(response.json()["token"])
    return str(jwt.decode(response.json()["token"], options={"verify_signature": False})["email"])


def test_look_alike_emails_reach_no_other_account_on_postgresql(
    replicas: tuple[LabelStudio, LabelStudio], postgres: Any, provider: Provider, portal_key: SigningKey
) -> None:
    """The whole corpus through the token API, gateway headers, portal-signed tokens, OpenID
    Connect and SCIM, on PostgreSQL (whose UPPER() folds the dotless i, U+0131, into I)."""
    assert postgres.query("SELECT upper(%s) = 'ALICE@EXAMPLE.COM'", "al\u0131ce@example.com") == [(True,)]
    first = replicas[0]
    first.exec_python(
        "from organizations.models import Organization\nfrom users.models import User\n"
        "organization = Organization.objects.first()\n"
        f"for email in {TARGETS!r}:\n"
        "    if not User.objects.filter(email=email).exists():\n"
        "        user = User.objects.create_user(email=email, password='Member-password-123')\n"
        "        user.active_organization = organization\n"
        "        user.save()\n"
        "        organization.add_user(user)\n"
    )
    before = user_emails(first)
    ways_in = {
        "token API": lambda sent: by_token_api(first, sent),
        "gateway headers": lambda sent: races.by_gateway(first.url, sent),
        "portal-signed tokens": lambda sent: races.by_portal_token(
            first.url, races.portal_token(portal_key, sent)
        ),
        "OpenID Connect": lambda sent: races.by_oidc_callback(
            first.url, *races.oidc_callback(first.url, provider, sent)
        ),
    }
    refusals = {"token API": "INVALID_EMAIL"}

    for name, way_in in ways_in.items():
        expected = {sent: reaches or refusals.get(name, "invalid-email") for sent, reaches in CASES}
        assert {sent: way_in(sent) for sent, _ in CASES} == expected, name

    scim_headers = {"Authorization": f"Bearer {SCIM_TOKEN}", "Content-Type": "application/scim+json"}
    scim_answers = {
        sent: requests.post(
            f"{first.url}/scim/v2/Users", json=okta_user(sent), headers=scim_headers, timeout=60
        ).status_code
        for sent, _expected in CASES
    }  # an existing address is a conflict, a look-alike is no address: never a user
    assert scim_answers == {sent: 409 if expected else 400 for sent, expected in CASES}
    assert user_emails(first) == before, "a look-alike created a user"


def test_both_replicas_migrated_one_at_a_time(replicas: tuple[LabelStudio, LabelStudio]) -> None:
    """Started at the same moment on an empty database, one migrates while the other waits
    for the lock (a migration takes about a minute; reaching the lock, seconds)."""
    logs = [server.logs() for server in replicas]
    waited = ["another replica is migrating; waiting for its lock" in text for text in logs]
    assert sorted(waited) == [False, True]
    assert all("migrated PostgreSQL under advisory lock 1000" in text for text in logs)
    assert all("Starting gunicorn" in text for text in logs)


def test_two_replicas_started_together_make_one_first_user_in_one_organization(
    replicas: tuple[LabelStudio, LabelStudio],
) -> None:
    """Both were told to create the same first user; Label Studio makes an organization
    with it when none exists, so the second must find the first's under the lock."""
    counted = replicas[0].exec_python(
        "from organizations.models import Organization\nfrom users.models import User\n"
        "admins = User.objects.filter(email='admin@example.com')\n"
        "print('COUNTS', Organization.objects.count(), admins.count())"
    )
    assert "COUNTS 1 1" in counted


def test_a_token_sent_to_both_replicas_at_once_logs_in_exactly_once(
    replicas: tuple[LabelStudio, LabelStudio], postgres: Any
) -> None:
    first = replicas[0]
    response = first.issue("admin@example.com")
    assert response.status_code == 200, response.text
    token = response.json()["token"]
    first.tokens.append(token)
    outcomes: list[str] = []
    start = threading.Barrier(PARALLEL)

    def redeem(server: LabelStudio) -> None:
        start.wait()
        answer = requests.get(f"{server.url}/api/sso/login?token={token}", allow_redirects=False, timeout=60)
        outcomes.append(answer.headers["X-Label-Studio-SSO"])

    threads = [threading.Thread(target=redeem, args=(replicas[index % 2],)) for index in range(PARALLEL)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["logged-in"] + ["replayed"] * (PARALLEL - 1)
    jti = jwt.decode(token, options={"verify_signature": False})["jti"]
    assert redeemed_rows(postgres, jti) == 1


def test_a_session_from_one_replica_works_on_the_other(replicas: tuple[LabelStudio, LabelStudio]) -> None:
    first, second = replicas
    body = second.issue("admin@example.com").json()
    first.tokens.append(body["token"])
    browser = requests.Session()
    browser.get(f"{first.url}/api/sso/login?token={body['token']}", allow_redirects=False, timeout=30)

    on_second = browser.get(f"{second.url}/api/current-user/whoami", timeout=30)

    assert on_second.status_code == 200
    assert on_second.json()["email"] == "admin@example.com"


def test_the_portals_logout_on_one_replica_ends_the_session_on_both(
    replicas: tuple[LabelStudio, LabelStudio],
) -> None:
    first, second = replicas
    body = first.issue("admin@example.com").json()
    first.tokens.append(body["token"])
    browser = requests.Session()
    browser.get(f"{first.url}/api/sso/login?token={body['token']}", allow_redirects=False, timeout=30)
    assert whoami(second, browser) == "admin@example.com"

    ended = requests.post(
        f"{second.url}/api/sso/logout",
        json={"email": "admin@example.com"},
        headers={"Authorization": f"Token {ADMIN_TOKEN}"},
        timeout=30,
    )

    assert ended.status_code == 200, ended.text
    stolen = requests.Session()
    stolen.cookies.update(browser.cookies)
    assert whoami(first, browser) is None
    assert whoami(second, stolen) is None


def test_after_the_portals_sign_out_the_browsers_label_studio_tabs_are_anonymous_on_both_replicas(
    replicas: tuple[LabelStudio, LabelStudio], sso_image: str, page: Any
) -> None:
    """Real Chromium: one browser, a tab on each replica (one cookie: same host, two ports)."""
    on_first, on_second = (server.url.replace("127.0.0.1", "ls.example.test") for server in replicas)
    portal = Portal(sso_image, replicas[0], on_first, free_port()).start()
    try:
        page.goto(f"{portal.url}/")
        page.get_by_role("button", name=re.compile("Sign in as Dana")).click()  # created here
        page.goto(f"{portal.url}/launch?via=url")
        page.wait_for_url(re.compile(re.escape(on_first) + r"/projects/"), timeout=60000)
        other_tab = page.context.new_page()
        other_tab.goto(f"{on_second}/projects/")
        assert "/user/login/" not in other_tab.url
        assert tab_user(page) == tab_user(other_tab) == "dana@example.com"

        page.goto(f"{portal.url}/signout")

        other_tab.reload()
        assert "/user/login/" in other_tab.url
        page.goto(f"{on_first}/projects/")
        assert "/user/login/" in page.url
    finally:
        portal.container.stop()


def tab_user(tab: Any) -> str | None:
    return tab.evaluate("fetch('/api/current-user/whoami').then(r => r.ok ? r.json() : null)")["email"]


def test_concurrent_first_logins_of_one_new_email_on_both_replicas_create_one_user(
    replicas: tuple[LabelStudio, LabelStudio], postgres: Any
) -> None:
    spellings = ["newcomer@example.com", "Newcomer@example.com", "NEWCOMER@example.com"]
    start = threading.Barrier(PARALLEL // 5)

    def first_login(index: int) -> tuple[int, int | None]:
        start.wait()
        response = replicas[index % 2].issue(spellings[index % 3], create=True, first_name="New")
        if response.status_code != 200:
            return response.status_code, None
        return 200, jwt.decode(response.json()["token"], options={"verify_signature": False})["user_id"]

    with ThreadPoolExecutor(PARALLEL // 5) as pool:
        outcomes = list(pool.map(first_login, range(PARALLEL // 5)))

    assert {status for status, _ in outcomes} == {200}
    assert len({user_id for _, user_id in outcomes}) == 1
    rows = postgres.query("SELECT count(*) FROM htx_user WHERE lower(email) = %s", "newcomer@example.com")
    assert rows[0][0] == 1


def assert_one_user_for_all(postgres: Any, email: str, outcomes: list[str]) -> None:
    rows = postgres.query("SELECT email FROM htx_user WHERE lower(email) = %s", email)
    assert len(rows) == 1, rows
    assert outcomes == [rows[0][0]] * races.RACE


def test_twelve_first_requests_through_a_gateway_on_both_replicas_are_all_the_one_new_user(
    replicas: tuple[LabelStudio, LabelStudio], postgres: Any
) -> None:
    email = "race-gateway@example.com"
    outcomes = races.raced(
        lambda index: races.by_gateway(replicas[index % 2].url, races.spelled(email, index))
    )
    assert_one_user_for_all(postgres, email, outcomes)


def test_twelve_portal_signed_first_logins_on_both_replicas_are_all_the_one_new_user(
    replicas: tuple[LabelStudio, LabelStudio], postgres: Any, portal_key: SigningKey
) -> None:
    email = "race-portal@example.com"
    tokens = [races.portal_token(portal_key, races.spelled(email, index)) for index in range(races.RACE)]
    outcomes = races.raced(lambda index: races.by_portal_token(replicas[index % 2].url, tokens[index]))
    assert_one_user_for_all(postgres, email, outcomes)


def test_twelve_openid_connect_callbacks_of_one_new_person_on_both_replicas_are_all_that_one_user(
    replicas: tuple[LabelStudio, LabelStudio], postgres: Any, provider: Provider
) -> None:
    """erin is the provider's account, new to Label Studio: each browser signs in at the
    provider first, then the callbacks race."""
    signed_in = [races.oidc_callback(replicas[index % 2].url, provider) for index in range(races.RACE)]
    outcomes = races.raced(lambda index: races.by_oidc_callback(replicas[index % 2].url, *signed_in[index]))
    assert_one_user_for_all(postgres, "erin@example.com", outcomes)


def redeemed_rows(postgres: Any, jti: str) -> int:
    return postgres.query("SELECT count(*) FROM label_studio_sso_redeemedtoken WHERE jti = %s", jti)[0][0]


def test_500_tokens_for_50_users_issued_and_redeemed_at_once_land_everyone_as_themselves(
    replicas: tuple[LabelStudio, LabelStudio],
) -> None:
    replicas[0].exec_python(MANY_USERS_SCRIPT)
    emails = [f"user{number:02d}@example.com" for number in range(USERS)] * TOKENS_PER_USER

    def issue(index_email: tuple[int, str]) -> tuple[str, str]:
        index, email = index_email
        response = replicas[index % 2].issue(email)
        assert response.status_code == 200, response.text
        return email, response.json()["token"]

    def land(index_issued: tuple[int, tuple[str, str]]) -> tuple[str, str | None]:
        index, (email, token) = index_issued
        browser = requests.Session()
        login = browser.get(
            f"{replicas[index % 2].url}/api/sso/login",
            params={"token": token},
            allow_redirects=False,
            timeout=60,
        )
        assert login.headers["X-Label-Studio-SSO"] == "logged-in", (email, login.headers)
        return email, whoami(replicas[(index + 1) % 2], browser)  # checked on the other replica

    with ThreadPoolExecutor(max_workers=16) as pool:
        issued = list(pool.map(issue, enumerate(emails)))
        landed = list(pool.map(land, enumerate(issued)))
    assert len(issued) == USERS * TOKENS_PER_USER == 500
    assert [email for email, seen in landed if seen != email] == []


def test_clock_skew_between_replicas_within_the_tolerance_is_accepted_beyond_it_refused(
    replicas: tuple[LabelStudio, LabelStudio],
) -> None:
    """A token minted by a replica whose clock runs ahead (or behind) of the verifying one.

    Containers share the host's clock, so the other replica's clock is played by minting
    with its key and a shifted time: SSO_CLOCK_SKEW is 30 s by default.
    """
    keys = keys_for(SHARED_SECRET)
    user_id = user_id_of(replicas[0], "admin@example.com")
    header = {"alg": "HS256", "typ": "JWT", "kid": keys.kid}

    def minted_with_clock(offset: int) -> str:
        now = int(time.time()) + offset
        return assemble(
            header, claims(user_id, "admin@example.com", iat=now, nbf=now, exp=now + 60), keys.secret
        )

    def outcome(token: str) -> str:
        answer = requests.get(
            f"{replicas[1].url}/api/sso/login", params={"token": token}, allow_redirects=False, timeout=30
        )
        return answer.headers["X-Label-Studio-SSO"]

    assert outcome(minted_with_clock(+20)) == "logged-in"  # 20 s ahead
    assert outcome(minted_with_clock(-75)) == "logged-in"  # 75 s behind: expired 15 s ago, within 30 s
    assert outcome(minted_with_clock(+90)) == "not-yet-valid"
    assert outcome(minted_with_clock(-120)) == "expired"


def test_a_replica_killed_mid_flow_leaves_the_other_serving_its_sessions_and_tokens(
    replicas: tuple[LabelStudio, LabelStudio], start_label_studio: Any, postgres: Any
) -> None:
    env = {**postgres.environment(), "SECRET_KEY": SHARED_SECRET, "SSO_RATE_LIMIT": "999999/m"}
    doomed = start_label_studio(env, sqlite=False)
    browser = requests.Session()
    browser.get(
        f"{doomed.url}/api/sso/login", params={"token": doomed.issue("user01@example.com").json()["token"]}
    )
    pending = doomed.issue("user02@example.com").json()["token"]  # issued, not yet spent

    doomed.container.get_wrapped_container().kill()

    assert whoami(replicas[0], browser) == "user01@example.com"
    other = requests.Session()
    other.get(f"{replicas[0].url}/api/sso/login", params={"token": pending}, timeout=30)
    assert whoami(replicas[0], other) == "user02@example.com"


def test_a_database_outage_answers_503_writes_nothing_and_recovers_without_a_restart(
    replicas: tuple[LabelStudio, LabelStudio], postgres: Any
) -> None:
    server = replicas[0]
    token = server.issue("user03@example.com").json()["token"]
    jti = jwt.decode(token, options={"verify_signature": False})["jti"]
    postgres.pause()
    try:
        issued = server.issue("user03@example.com")
        browser = requests.Session()
        login = browser.get(
            f"{server.url}/api/sso/login", params={"token": token}, allow_redirects=False, timeout=60
        )
        by_url = requests.get(
            f"{server.url}/projects/", params={"token": token}, allow_redirects=False, timeout=60
        )
    finally:
        postgres.resume()
    assert (issued.status_code, issued.json()["error_code"]) == (503, "DATABASE_UNAVAILABLE")
    assert issued.headers["Retry-After"]
    for answer in (login, by_url):  # Label Studio's middleware may meet the outage before ours
        assert answer.status_code in (302, 503), answer.status_code
        assert answer.headers.get("X-Label-Studio-SSO") == "database-unavailable"
        assert answer.headers["Cache-Control"] == "no-store"
    assert redeemed_rows(postgres, jti) == 0  # nothing half-written
    deadline = time.monotonic() + 30
    while server.issue("user03@example.com").status_code != 200:  # stale connections are dropped, not fatal
        assert time.monotonic() < deadline, "no recovery within 30 s of the database coming back"
        time.sleep(1)
    assert whoami(server, browser) is None  # the outage logged no one in
    assert browser.get(f"{server.url}/api/sso/login", params={"token": token}, timeout=60).ok
    assert whoami(server, browser) == "user03@example.com"  # the token was not spent by the outage
