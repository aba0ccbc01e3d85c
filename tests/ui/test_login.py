"""Signing in to the UI and what each role may do there, with access control on (API keys
mode; basic mode for the auth string as a sign-in): the gate on every page, the sign-in
form and its throttle, the session cookie, roles hiding and refusing actions, the audit of
UI changes, the audit page; and the banner of a server open to the network."""

from __future__ import annotations

import datetime as dt
import html
import re
import stat
import time
import urllib.parse
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import bcrypt
import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts

from baton.clock import utcnow
from baton.core.api_keys import create_key
from baton.core.audit import list_audit
from baton.core.users import add_user, remove_user, set_password
from baton.errors import ConfigError
from baton.security import sessions
from baton.security.roles import Role
from baton.server.app import create_app
from baton.settings import Settings
from baton.ui import auth
from baton.ui.gate import UIRoute
from baton.ui.throttle import LoginThrottle
from tests.api.test_bad_input import api_routes
from tests.ui.data import Seeded, flow_run, seed

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
PASSWORD = "correct horse battery"
USERS = {"ada": Role.ADMIN, "dev": Role.DEVELOPER, "vic": Role.VIEWER, "wes": Role.WORKER}
WRONG = "Wrong name or password."
BANNER = "No access control: anyone who can reach this server can change your flows"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.with_overrides(auth_mode="keys")


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """bcrypt's lowest cost for the users made here: its cost is not what is tested."""
    real = bcrypt.gensalt
    monkeypatch.setattr(bcrypt, "gensalt", lambda: real(rounds=4))


@pytest.fixture
async def users(app: FastAPI) -> dict[str, Role]:
    for name, role in USERS.items():
        await add_user(app.state.db, name, role, PASSWORD)
    return USERS


@pytest.fixture
async def api(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The API as an admin key holder, to make data and read it back."""
    key = (await create_key(app.state.db, "seeder", Role.ADMIN))["key"]
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://baton", headers=headers
    ) as client:
        yield client


@pytest.fixture
async def seeded(api: httpx.AsyncClient) -> Seeded:
    return await seed(api)


Browser = Callable[..., Any]


@pytest.fixture
def browser(app: FastAPI) -> Browser:
    """A new browser (its own cookies), from an address of our choosing."""

    @asynccontextmanager
    async def open_browser(
        address: str = "127.0.0.1", scheme: str = "http"
    ) -> AsyncIterator[httpx.AsyncClient]:
        transport = httpx.ASGITransport(app=app, client=(address, 50000))
        async with httpx.AsyncClient(transport=transport, base_url=f"{scheme}://baton") as c:
            yield c

    return open_browser


async def token(client: httpx.AsyncClient, path: str = "/login") -> str:
    response = await client.get(path)
    found = TOKEN.search(response.text)
    assert found, f"no form token on {path}: {response.status_code} {response.text[:300]}"
    return html.unescape(found.group(1))


async def post(
    client: httpx.AsyncClient, path: str, data: dict[str, str] | list[tuple[str, str]]
) -> httpx.Response:
    pairs = list(data.items()) if isinstance(data, dict) else data
    return await client.post(
        path,
        content=urllib.parse.urlencode(pairs),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )


async def log_in(
    client: httpx.AsyncClient, name: str, password: str = PASSWORD, next_path: str = "/"
) -> httpx.Response:
    csrf = await token(client, "/login")
    form = {"csrf_token": csrf, "name": name, "password": password, "next": next_path}
    return await post(client, "/login", form)


async def status_with(client: httpx.AsyncClient, cookie: str, path: str = "/") -> int:
    """The status of a page asked for with this session cookie alone."""
    client.cookies.clear()
    response = await client.get(path, headers={"Cookie": f"baton_session={cookie}"})
    return response.status_code


def ui_routes(app: FastAPI) -> list[UIRoute]:
    contexts = iter_route_contexts(app.routes)  # flattens included routers
    return [c.original_route for c in contexts if isinstance(c.original_route, UIRoute)]


def concrete(template: str) -> str:
    return re.sub(r"{\w+}", str(uuid.UUID(int=7)), template)


# --- the gate -----------------------------------------------------------------------------


async def test_every_ui_route_needs_a_signed_in_user(app: FastAPI, browser: Browser) -> None:
    routes = ui_routes(app)
    assert len(routes) > 20
    public = {r.path for r in routes if r.public}
    assert public == {"/login", "/logout", "/static/{name}", "/favicon.ico"}
    async with browser() as stranger:
        csrf = await token(stranger)
        for route in routes:
            if route.public:
                continue
            path = concrete(route.path)
            for method in (route.methods or set()) - {"HEAD"}:
                form = {"csrf_token": csrf, "action": "delete", "run": str(uuid.UUID(int=7))}
                response = await (
                    stranger.get(path) if method == "GET" else post(stranger, path, form)
                )
                if "/live/" in route.path:
                    assert response.status_code == 401, (method, route.path)
                else:
                    assert response.status_code == 303, (method, route.path, response.text)
                    assert response.headers["location"].startswith("/login?next="), route.path
        assert (await stranger.get("/static/baton.css")).status_code == 200
        assert (await stranger.get("/login")).status_code == 200
        assert (await stranger.get("/favicon.ico")).status_code == 204


async def test_a_page_leads_to_sign_in_and_back(
    browser: Browser, users: dict[str, Role], seeded: Seeded
) -> None:
    async with browser() as b:
        refused = await b.get("/runs?state=FAILED&sort=oldest")
        assert refused.status_code == 303
        location = refused.headers["location"]
        assert location == "/login?next=%2Fruns%3Fstate%3DFAILED%26sort%3Doldest"
        form = await b.get(location)
        assert 'name="next" value="/runs?state=FAILED&amp;sort=oldest"' in form.text
        assert 'href="/runs"' not in form.text  # no navigation before signing in
        done = await log_in(b, "dev", next_path="/runs?state=FAILED&sort=oldest")
        assert done.status_code == 303
        assert done.headers["location"] == "/runs?state=FAILED&sort=oldest"
        page = await b.get(done.headers["location"])
        assert page.status_code == 200
        assert "failing-run" in page.text
        assert "Signed in as <strong>dev</strong>" in page.text
        assert '<span class="role">developer</span>' in page.text
        assert 'action="/logout"' in page.text
        live = await b.get(f"/runs/{seeded.running_id}/live/header")
        assert live.status_code == 200


async def test_next_stays_on_this_site(browser: Browser, users: dict[str, Role]) -> None:
    for target, expected in [
        ("//evil.example/x", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("/login", "/"),
        ("/flows?q=a", "/flows?q=a"),
    ]:
        async with browser() as b:
            done = await log_in(b, "vic", next_path=target)
            assert done.status_code == 303
            assert done.headers["location"] == expected, target
    async with browser() as b:
        page = await b.get("/login?next=//evil.example")
        assert 'name="next" value="/"' in page.text


# --- signing in ---------------------------------------------------------------------------


async def test_cookie_flags_and_sign_out(browser: Browser, users: dict[str, Role]) -> None:
    async with browser() as b:
        done = await log_in(b, "ada")
        assert done.status_code == 303
        [cookie] = [c for c in done.headers.get_list("set-cookie") if "baton_session=" in c]
        flags = [part.strip().lower() for part in cookie.split(";")]
        assert "httponly" in flags
        assert "samesite=lax" in flags
        assert "path=/" in flags
        assert f"max-age={12 * 3600}" in flags
        assert "secure" not in flags  # plain http: a Secure cookie would never come back
        assert (await b.get("/")).status_code == 200
        assert (await b.get("/login")).headers["location"] == "/"  # already signed in

        csrf = await token(b, "/")
        out = await post(b, "/logout", {"csrf_token": csrf})
        assert out.status_code == 303
        assert out.headers["location"] == "/login"
        [cleared] = [c for c in out.headers.get_list("set-cookie") if "baton_session=" in c]
        assert "max-age=0" in cleared.lower()
        assert (await b.get("/")).status_code == 303
        assert "Signed out." in (await b.get("/login")).text
        # Signing out is a form like any other: no token, no effect.
        await log_in(b, "ada")
        assert (await post(b, "/logout", {"csrf_token": "forged"})).status_code == 403
        assert (await b.get("/")).status_code == 200

    async with browser(scheme="https") as secure:
        done = await log_in(secure, "ada")
        [cookie] = [c for c in done.headers.get_list("set-cookie") if "baton_session=" in c]
        assert "secure" in [part.strip().lower() for part in cookie.split(";")]


async def test_failures_do_not_say_whether_the_name_exists(
    browser: Browser, users: dict[str, Role]
) -> None:
    async with browser("10.0.0.1") as b:
        unknown = await log_in(b, "nobody", "whatever-it-is")
        wrong = await log_in(b, "dev", "whatever-it-is")
        empty = await log_in(b, "", "")
    for response in (unknown, wrong, empty):
        assert response.status_code == 401
        assert WRONG in response.text
        assert "baton_session" not in response.headers.get("set-cookie", "")
    # Apart from the name typed back into the field, the two pages are the same.
    assert unknown.text.replace("nobody", "X") == wrong.text.replace('value="dev"', 'value="X"')


async def test_sign_in_is_throttled(app: FastAPI, browser: Browser, users: dict[str, Role]) -> None:
    # Five failures for one name, each from a different address: the name is locked.
    for i in range(5):
        async with browser(f"10.1.0.{i}") as b:
            assert (await log_in(b, "dev", "not-the-password")).status_code == 401
    async with browser("10.1.0.99") as b:
        locked = await log_in(b, "dev")  # the right password, refused all the same
        assert locked.status_code == 429
        assert "Too many failed sign-ins" in locked.text
        assert "Try again in 15 minutes" in locked.text
        assert 0 < int(locked.headers["retry-after"]) <= 900
        assert "baton_session" not in locked.headers.get("set-cookie", "")
        assert (await log_in(b, "ada")).status_code == 303  # other names are not

    # Five failures from one address, each for a different name: the address is locked.
    async with browser("10.2.0.1") as b:
        for i in range(5):
            assert (await log_in(b, f"guess-{i}", "nope-nope")).status_code == 401
        assert (await log_in(b, "vic")).status_code == 429
    async with browser("10.2.0.2") as b:
        assert (await log_in(b, "vic")).status_code == 303

    # Once the window has passed, the right password works again.
    throttle: LoginThrottle = app.state.baton_ui.throttle
    throttle.clock = lambda: time.monotonic() + 15 * 60 + 1
    async with browser("10.1.0.99") as b:
        assert (await log_in(b, "dev")).status_code == 303
    async with browser("10.2.0.1") as b:
        assert (await log_in(b, "vic")).status_code == 303


def test_the_throttle_window() -> None:
    throttle = LoginThrottle(limit=5, window=900)
    keys = ["name:a", "address:1"]
    for at in (0.0, 100.0, 200.0, 300.0):
        throttle.failed(keys, at)
    assert throttle.retry_after(keys, 301.0) == 0
    throttle.failed(keys, 400.0)
    assert throttle.retry_after(keys, 401.0) == 499.0  # until the first failure is 900 s old
    assert throttle.retry_after(["name:b", "address:1"], 401.0) == 499.0
    assert throttle.retry_after(["name:b", "address:2"], 401.0) == 0
    throttle.succeeded("name:a")
    assert throttle.retry_after(["name:a"], 401.0) == 0
    assert throttle.retry_after(["address:1"], 401.0) == 499.0  # addresses are not forgiven
    assert throttle.retry_after(["address:1"], 900.5) == 0  # the oldest has left the window


# --- the session cookie -------------------------------------------------------------------


async def test_forged_expired_and_stale_sessions_are_refused(
    app: FastAPI, browser: Browser, users: dict[str, Role]
) -> None:
    async with browser() as b:
        await log_in(b, "vic")
        good = b.cookies["baton_session"]
        assert (await b.get("/")).status_code == 200

        payload, signature = good.split(".")
        claims = sessions.decode(app.state.baton_ui.session_key, good, time.time())
        assert claims is not None
        assert (claims.name, claims.role, claims.kind) == ("vic", "viewer", "user")
        assert claims.expires - time.time() == pytest.approx(12 * 3600, abs=60)
        key = app.state.baton_ui.session_key
        promoted = sessions.encode(b"not our key" * 3, sessions.Session(**{**vars(claims)}))
        as_admin = sessions.Session("ada", "admin", claims.expires, "user", claims.stamp)
        expired = sessions.Session("vic", "viewer", int(time.time()) - 1, "user", claims.stamp)
        tampered_payload = sessions.encode(key, as_admin).split(".")[0] + "." + signature
        for forged in (
            tampered_payload,  # claims changed, the old signature kept
            promoted,  # signed with another key
            sessions.encode(key, as_admin),  # ours, but the stamp is vic's password
            sessions.encode(key, expired),
            payload,
            "garbage",
            good + "x",
        ):
            assert await status_with(b, forged) == 303, forged

        # A changed password, a removed user: sessions made before end at once.
        assert await status_with(b, good) == 200
        await set_password(app.state.db, "vic", "a brand new password")
        assert await status_with(b, good) == 303
        await log_in(b, "vic", "a brand new password")
        assert (await b.get("/")).status_code == 200
        await remove_user(app.state.db, "vic")
        assert (await b.get("/")).status_code == 303


async def test_sessions_survive_a_restart(settings: Settings, users: dict[str, Role]) -> None:
    """The signing secret is kept in BATON_HOME (0600), so a new process accepts the cookies
    of the old one; BATON_UI_SECRET, when set, is what replicas share instead."""

    async def cookie_works(app_settings: Settings, cookie: str | None = None) -> str:
        app = create_app(app_settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://baton") as b:
                if cookie is None:
                    assert (await log_in(b, "dev")).status_code == 303
                    return str(b.cookies["baton_session"])
                return str(await status_with(b, cookie))

    first = await cookie_works(settings)
    secret = settings.home / "ui-secret"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert await cookie_works(settings, first) == "200"

    with pytest.raises(ConfigError, match="BATON_UI_SECRET needs at least 32 characters"):
        settings.with_overrides(ui_secret="too short").check_auth()
    shared = "s" * 40
    one = settings.with_overrides(ui_secret=shared)
    made = await cookie_works(one)
    assert await cookie_works(settings, made) == "303"  # another secret
    assert await cookie_works(one, made) == "200"


# --- roles --------------------------------------------------------------------------------

ACTION_MARKS = (
    'name="action" value="cancel"',
    'name="action" value="delete"',
    "/cancel",
    "/retry",
    "/delete",
    "Run now</button>",
    "/pause",
    "New variable",
    'value="save"',
)


async def pages_of(client: httpx.AsyncClient, s: Seeded) -> str:
    paths = [
        "/runs",
        f"/runs/{s.running_id}",
        f"/runs/{s.running_id}/live/header",
        f"/deployments/{s.deployment_id}",
        "/variables",
        f"/variables/{s.variable_id}",
    ]
    texts = []
    for path in paths:
        response = await client.get(path)
        assert response.status_code == 200, path
        texts.append(response.text)
    return "\n".join(texts)


async def test_viewers_and_workers_see_no_actions_and_are_refused(
    api: httpx.AsyncClient, browser: Browser, users: dict[str, Role], seeded: Seeded
) -> None:
    s = seeded
    async with browser() as dev:
        await log_in(dev, "dev")
        shown = await pages_of(dev, s)
        for mark in ACTION_MARKS:
            assert mark in shown, mark
    for name in ("vic", "wes"):
        async with browser() as b:
            await log_in(b, name)
            shown = await pages_of(b, s)
            for mark in ACTION_MARKS:
                assert mark not in shown, (name, mark)
            assert "batch_size" in shown  # the variable is still shown, read only
            csrf = await token(b, "/runs")
            before = len((await api.post("/api/flow_runs/filter", json={})).json())
            forged = [
                ("/runs/bulk", {"action": "cancel", "run": s.running_id}),
                ("/runs/bulk", {"action": "delete", "run": s.failed_id}),
                (f"/runs/{s.running_id}/cancel", {}),
                (f"/runs/{s.failed_id}/delete", {}),
                (f"/runs/{s.running_id}/retry", {}),
                (f"/deployments/{s.deployment_id}/pause", {"paused": "true"}),
                (f"/deployments/{s.deployment_id}/run", {"param.n": "1"}),
                ("/variables", {"name": "sneaky", "value": "1"}),
                (f"/variables/{s.variable_id}", {"name": "renamed", "value": "2"}),
                (f"/variables/{s.variable_id}", {"action": "delete"}),
            ]
            for path, form in forged:
                refused = await post(b, path, {"csrf_token": csrf, **form})
                assert refused.status_code == 403, (name, path, form)
                assert "Forbidden: the " in refused.text
            assert (await b.get("/audit")).status_code == 403
    # Nothing changed.
    running = (await api.get(f"/api/flow_runs/{s.running_id}")).json()
    assert running["state_type"] == "RUNNING"
    assert (await api.get(f"/api/flow_runs/{s.failed_id}")).status_code == 200
    assert (await api.get(f"/api/deployments/{s.deployment_id}")).json()["paused"] is False
    assert (await api.get(f"/api/variables/{s.variable_id}")).json()["name"] == "batch_size"
    runs = (await api.post("/api/flow_runs/filter", json={})).json()
    assert len(runs) == before  # no run was created


async def test_developers_act_and_the_ui_audits_it(
    app: FastAPI, api: httpx.AsyncClient, browser: Browser, users: dict[str, Role], seeded: Seeded
) -> None:
    scheduled = await flow_run(
        api, seeded.flow_id, "to-cancel", state={"type": "SCHEDULED", "name": "Scheduled"}
    )
    async with browser("10.9.8.7") as dev:
        await log_in(dev, "dev")
        csrf = await token(dev, "/runs")
        form = [("csrf_token", csrf), ("action", "cancel"), ("run", scheduled["id"])]
        done = await post(dev, "/runs/bulk", form)
        assert done.status_code == 303
        assert "Cancelled 1 run." in (await dev.get(done.headers["location"])).text
    state = (await api.get(f"/api/flow_runs/{scheduled['id']}")).json()["state_type"]
    assert state == "CANCELLED"
    async with browser("10.9.8.6") as vic:
        await log_in(vic, "vic")
        csrf = await token(vic, "/variables")
        refused = await post(
            vic, f"/variables/{seeded.variable_id}", {"csrf_token": csrf, "action": "delete"}
        )
        assert refused.status_code == 403
    async with browser("10.9.8.6") as stranger:
        await log_in(stranger, "vic", "wrong-password")

    await app.state.audit.flush()
    entries = [e for e in await list_audit(app.state.db) if e["action"].startswith("UI ")]
    seen = [(e["actor"], e["role"], e["action"], e["status"], e["source"]) for e in entries]
    assert seen == [
        ("unauthenticated", None, "UI POST /login", 401, "10.9.8.6"),
        ("vic", "viewer", "UI POST /variables/{raw_id} variable-delete", 403, "10.9.8.6"),
        ("vic", "viewer", "UI POST /login", 303, "10.9.8.6"),
        ("dev", "developer", "UI POST /runs/bulk cancel", 303, "10.9.8.7"),
        ("dev", "developer", "UI POST /login", 303, "10.9.8.7"),
    ]
    assert entries[3]["object"] == f"/runs/bulk: {scheduled['id']}"
    assert entries[1]["object"] == f"/variables/{seeded.variable_id}"
    assert entries[0]["object"] == "/login as 'vic'"


async def audit_objects(client: httpx.AsyncClient, query: str) -> list[str]:
    """Every entry's object, newest first, walking the pages."""
    found: list[str] = []
    path: str | None = "/audit?" + query
    while path is not None:
        page = await client.get(path)
        assert page.status_code == 200
        found += [
            html.unescape(o) for o in re.findall(r'<td class="object">([^<]*)</td>', page.text)
        ]
        older = re.search(r'rel="next" href="\?([^"]+)"', page.text)
        path = "/audit?" + html.unescape(older.group(1)) if older else None
    return found


async def test_the_audit_page_is_for_admins(
    app: FastAPI, browser: Browser, users: dict[str, Role]
) -> None:
    audit = app.state.audit
    start = utcnow() - dt.timedelta(seconds=5)
    for i in range(60):
        actor = "robot" if i % 2 else "human"
        at = start - dt.timedelta(minutes=i)
        audit.record(at, actor, "developer", "POST /api/flows/", f"/api/flows/{i}", 201, "10.0.0.1")
    old = start - dt.timedelta(days=3)
    audit.record(old, "ancient", "admin", "DELETE /api/flows/{id}", "/api/flows/old", 204, None)
    for name in ("dev", "vic", "wes"):
        async with browser() as b:
            await log_in(b, name)
            refused = await b.get("/audit")
            assert refused.status_code == 403
            assert f"the {USERS[name].value} role may not read the audit log" in refused.text
            assert 'href="/audit"' not in (await b.get("/")).text
    async with browser() as ada:
        await log_in(ada, "ada")
        await audit.flush()
        assert 'href="/audit"' in (await ada.get("/")).text
        first = await ada.get("/audit")
        assert first.text.count('<td class="object">') == 50  # a page
        everything = await audit_objects(ada, "")
        flows = [f"/api/flows/{i}" for i in range(60)]
        logins = ["/login as 'ada'", "/login as 'wes'", "/login as 'vic'", "/login as 'dev'"]
        assert everything == [*logins, *flows, "/api/flows/old"]
        robots = await audit_objects(ada, "actor=robot")
        assert robots == flows[1::2]
        recent = await audit_objects(ada, "since=24h")
        assert recent == [*logins, *flows]
        # Going back from the second page returns the first.
        older = re.search(r'rel="next" href="\?([^"]+)"', first.text)
        assert older
        second = await ada.get("/audit?" + html.unescape(older.group(1)))
        newer = re.search(r'rel="prev" href="\?([^"]+)"', second.text)
        assert newer
        back = await ada.get("/audit?" + html.unescape(newer.group(1)))
        assert back.text.count('<td class="object">') == 50
        assert "/login as &#39;ada&#39;" in back.text


# --- what each form does, as the API route that does the same -----------------------------


def test_every_form_maps_to_an_api_route(app: FastAPI) -> None:
    posted = {r.path for r in ui_routes(app) if "POST" in (r.methods or ())}
    assert posted == set(auth.FORMS), "a UI form route without a role check"
    api = set(api_routes(app))
    for action, (method, template, _) in auth.ACTIONS.items():
        if action != "audit":  # the audit log has no API route yet; the rule is the same
            assert (method, template) in api, (action, method, template)


# --- basic auth, and no auth --------------------------------------------------------------


async def test_the_basic_auth_string_signs_in_as_an_admin(settings: Settings) -> None:
    basic = settings.with_overrides(auth_mode="basic", auth_string="boss:s3cret-string")
    app = create_app(basic)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://baton") as b:
            assert (await b.get("/")).status_code == 303
            assert (await log_in(b, "boss", "wrong")).status_code == 401
            assert (await log_in(b, "boss", "s3cret-string")).status_code == 303
            page = await b.get("/audit")
            assert page.status_code == 200
            assert "Signed in as <strong>boss</strong>" in page.text
            cookie = str(b.cookies["baton_session"])
    # A new auth string ends the sessions made with the old one.
    changed = create_app(basic.with_overrides(auth_string="boss:another-one"))
    async with changed.router.lifespan_context(changed):
        transport = httpx.ASGITransport(app=changed)
        async with httpx.AsyncClient(transport=transport, base_url="http://baton") as b:
            assert await status_with(b, cookie) == 303


@pytest.mark.parametrize(
    ("host", "auth_mode", "shown"),
    [
        ("0.0.0.0", "none", True),
        ("192.168.1.20", "none", True),
        ("::", "none", True),
        ("127.0.0.1", "none", False),
        ("localhost", "none", False),
        ("::1", "none", False),
        ("0.0.0.0", "keys", False),
    ],
)
async def test_the_banner_of_an_open_server(
    settings: Settings, host: str, auth_mode: str, shown: bool
) -> None:
    app = create_app(settings.with_overrides(host=host, auth_mode=auth_mode))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://baton") as b:
            page = await b.get("/login" if auth_mode != "none" else "/runs")
            assert page.status_code == 200
            assert (BANNER in page.text) is shown
            if auth_mode == "none":
                assert "Signed in as" not in page.text
                assert 'action="/logout"' not in page.text
                assert (await b.get("/login")).headers["location"] == "/"
