"""Editing in the UI, in-process against a real database (SQLite and PostgreSQL): the forms
of deployments (fields, schedules, delete), work pools and their queues, and concurrency
limits. Each form is posted as a browser posts it; the answer is checked, then what the API
reads back. Refused input comes back as the page with a 422 and a message at its field;
forms without their CSRF token and forms of read-only roles change nothing."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import bcrypt
import httpx
import pytest
from fastapi import FastAPI

from baton.core.api_keys import create_key
from baton.core.audit import list_audit
from baton.core.users import add_user
from baton.security.roles import Role
from baton.server.app import create_app
from baton.settings import Settings
from tests.ui.data import POOL, Seeded, seed
from tests.ui.test_pages import post, token


@pytest.fixture
async def seeded(client: httpx.AsyncClient) -> Seeded:
    return await seed(client)


async def api_get(client: httpx.AsyncClient, path: str) -> Any:
    response = await client.get(path)
    assert response.status_code == 200, (path, response.text)
    return response.json()


PROBLEM = re.compile(r'<div class="problem" role="alert">([^<]*)</div>')


def problem_texts(page: str) -> list[str]:
    """The messages shown next to fields."""
    return [html.unescape(text) for text in PROBLEM.findall(page)]


def problems_at(page: str) -> dict[str, str]:
    """Each message by the form field it follows (the input's name right before it)."""
    out = {}
    for found in PROBLEM.finditer(page):
        names = re.findall(r'name="([^"]+)"', page[: found.start()])
        out[names[-1]] = html.unescape(found.group(1))
    return out


def assert_refused_at(response: httpx.Response, field: str, expected: str) -> None:
    """A 422 page with one message, at `field`, saying `expected`."""
    assert response.status_code == 422, response.text[:300]
    assert len(problem_texts(response.text)) == 1, problem_texts(response.text)
    found = problems_at(response.text)
    assert field in found, (field, found)
    assert expected in found[field], (field, found)


async def notice_after(client: httpx.AsyncClient, response: httpx.Response) -> str:
    assert response.status_code == 303, response.text[:500]
    page = (await client.get(response.headers["location"])).text
    found = re.search(r'<p class="notice notice-(\w+)" role="status">([^<]*)</p>', page)
    assert found, "no notice"
    return f"{found.group(1)}: {html.unescape(found.group(2))}"


# --- deployments ----------------------------------------------------------------------------


async def test_deployment_fields_are_saved(client: httpx.AsyncClient, seeded: Seeded) -> None:
    path = f"/deployments/{seeded.deployment_id}"
    page = (await client.get(path)).text
    assert f'action="{path}/edit"' in page
    assert "Loads the &lt;b&gt;nightly&lt;/b&gt; batch</textarea>" in page  # escaped, prefilled
    csrf = await token(client, path)
    await client.post(f"/api/work_pools/{POOL}/queues", json={"name": "urgent"})
    form = {
        "csrf_token": csrf,
        "description": "Loads the nightly batch",
        "tags": "etl, nightly ,",
        "concurrency_limit": "4",
        "parameters": '{"n": 9, "mode": "fast"}',
        "work_queue_name": "urgent",
    }
    saved = await post(client, f"{path}/edit", form)
    assert await notice_after(client, saved) == "ok: Deployment saved."
    d = await api_get(client, f"/api{path}")
    assert d["description"] == "Loads the nightly batch"
    assert d["tags"] == ["etl", "nightly"]
    assert d["concurrency_limit"] == 4
    assert d["parameters"] == {"n": 9, "mode": "fast"}
    assert d["work_queue_name"] == "urgent"
    assert d["work_pool_name"] == POOL

    # Empty fields clear; a required parameter may be left to each run.
    cleared = await post(
        client,
        f"{path}/edit",
        {
            "csrf_token": csrf,
            "description": "",
            "tags": "",
            "concurrency_limit": "",
            "parameters": "",
        },
    )
    assert cleared.status_code == 303
    d = await api_get(client, f"/api{path}")
    assert (d["description"], d["tags"], d["concurrency_limit"], d["parameters"]) == (
        None,
        [],
        None,
        {},
    )
    assert d["work_queue_name"] == "urgent"  # not sent: kept


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("concurrency_limit", "-1", "greater than or equal to 0"),
        ("concurrency_limit", "many", "valid integer"),
        ("parameters", "{oops", "not valid JSON"),
        ("parameters", "[1, 2]", "Expected a JSON object"),
        ("parameters", '{"mode": "medium"}', "Parameter 'mode' is invalid"),
        ("parameters", '{"n": "seven"}', "Parameter 'n' is invalid"),
    ],
)
async def test_deployment_edit_refusals_name_the_field(
    client: httpx.AsyncClient, seeded: Seeded, field: str, value: str, expected: str
) -> None:
    path = f"/deployments/{seeded.deployment_id}"
    csrf = await token(client, path)
    form = {"csrf_token": csrf, "description": "typed text", "parameters": '{"n": 1}', field: value}
    refused = await post(client, f"{path}/edit", form)
    assert_refused_at(refused, field, expected)
    # What was typed stays on the form.
    assert "typed text</textarea>" in refused.text
    d = await api_get(client, f"/api{path}")
    assert d["description"] == "Loads the <b>nightly</b> batch"  # nothing changed
    assert d["parameters"] == {"n": 5}


async def test_schedules_are_added_paused_and_deleted(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    path = f"/deployments/{seeded.deployment_id}"
    csrf = await token(client, path)

    async def schedules() -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = await api_get(client, f"/api{path}/schedules")
        return found

    assert len(await schedules()) == 1
    added = await post(
        client,
        f"{path}/schedules",
        {"csrf_token": csrf, "kind": "cron", "value": "30 6 * * 1-5", "timezone": "Europe/Oslo"},
    )
    assert await notice_after(client, added) == "ok: Schedule added."
    every = await post(
        client, f"{path}/schedules", {"csrf_token": csrf, "kind": "interval", "value": "3600"}
    )
    assert every.status_code == 303
    rrule = {"csrf_token": csrf, "kind": "rrule", "value": "FREQ=WEEKLY;BYDAY=MO", "timezone": ""}
    assert (await post(client, f"{path}/schedules", rrule)).status_code == 303
    found = await schedules()
    assert [s["schedule"].get("cron") for s in found[1:2]] == ["30 6 * * 1-5"]
    assert found[1]["schedule"]["timezone"] == "Europe/Oslo"
    assert found[2]["schedule"]["interval"] == 3600
    assert found[3]["schedule"]["rrule"] == "FREQ=WEEKLY;BYDAY=MO"
    page = (await client.get(path)).text
    assert "America/New_York" in page
    assert "Europe/Oslo" in page

    bad = [
        ({"kind": "cron", "value": "61 * * * *"}, "value", "cron"),
        ({"kind": "cron", "value": "0 9 * * *", "timezone": "Mars/Base"}, "timezone", "Mars/Base"),
        ({"kind": "interval", "value": "hourly"}, "value", "number of seconds"),
        ({"kind": "interval", "value": "-5"}, "value", "greater than 0"),
        ({"kind": "rrule", "value": "FREQ=SOMETIMES"}, "value", "rrule"),
        ({"kind": "weekly", "value": "x"}, "kind", "cron, interval or rrule"),
        ({"kind": "cron", "value": ""}, "value", "Enter the cron"),
    ]
    for fields, field, expected in bad:
        refused = await post(client, f"{path}/schedules", {"csrf_token": csrf, **fields})
        assert_refused_at(refused, field, expected)
    assert len(await schedules()) == 4

    first = found[0]["id"]
    paused = await post(
        client, f"{path}/schedules/{first}", {"csrf_token": csrf, "action": "pause"}
    )
    assert await notice_after(client, paused) == "ok: Schedule paused."
    assert (await schedules())[0]["active"] is False
    assert ">Resume</button>" in (await client.get(path)).text
    await post(client, f"{path}/schedules/{first}", {"csrf_token": csrf, "action": "resume"})
    assert (await schedules())[0]["active"] is True
    gone = await post(client, f"{path}/schedules/{first}", {"csrf_token": csrf, "action": "delete"})
    assert gone.status_code == 303
    assert first not in [s["id"] for s in await schedules()]
    unknown = f"{path}/schedules/00000000-0000-0000-0000-000000000000"
    missing = await post(client, unknown, {"csrf_token": csrf, "action": "pause"})
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html")


async def test_deleting_a_deployment_asks_first(client: httpx.AsyncClient, seeded: Seeded) -> None:
    path = f"/deployments/{seeded.deployment_id}"
    assert f'href="{path}/delete"' in (await client.get(path)).text
    confirm = await client.get(f"{path}/delete")
    assert confirm.status_code == 200
    assert "Delete deployment nightly?" in confirm.text
    assert f'action="{path}/delete"' in confirm.text
    assert (await client.get(f"/api{path}")).status_code == 200  # asking deletes nothing
    csrf = await token(client, f"{path}/delete")
    done = await post(client, f"{path}/delete", {"csrf_token": csrf})
    assert done.headers["location"] == "/deployments"
    assert await notice_after(client, done) == "ok: Deployment deleted."
    assert (await client.get(f"/api{path}")).status_code == 404
    assert (await client.get(f"{path}/delete")).status_code == 404
    again = await post(client, f"{path}/delete", {"csrf_token": csrf})
    assert again.status_code == 404


# --- work pools and queues ------------------------------------------------------------------


async def test_work_pools_are_created_edited_paused_and_deleted(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    csrf = await token(client, "/work-pools")
    made = await post(
        client,
        "/work-pools",
        {
            "csrf_token": csrf,
            "name": "gpu pool",
            "type": "",
            "description": "Big <machines>",
            "concurrency_limit": "3",
        },
    )
    assert made.headers["location"] == "/work-pools/gpu%20pool"
    assert await notice_after(client, made) == "ok: Work pool gpu pool created."
    pool = await api_get(client, "/api/work_pools/gpu pool")
    assert (pool["type"], pool["description"], pool["concurrency_limit"]) == (
        "process",
        "Big <machines>",
        3,
    )
    assert "command" in pool["base_job_template"]["job_configuration"]
    queues = await client.post("/api/work_pools/gpu pool/queues/filter", json={})
    assert [q["name"] for q in queues.json()] == ["default"]

    for fields, field, expected in [
        ({"name": POOL}, "name", "already exists"),
        ({"name": "a/b"}, "name", "must not contain /"),
        ({"name": "prefect-x"}, "name", "reserved"),
        ({"name": "ok-name", "concurrency_limit": "-2"}, "concurrency_limit", "greater than"),
    ]:
        refused = await post(client, "/work-pools", {"csrf_token": csrf, **fields})
        assert_refused_at(refused, field, expected)
    names = [p["name"] for p in (await client.post("/api/work_pools/filter", json={})).json()]
    assert sorted(names) == ["gpu pool", POOL]

    path = "/work-pools/gpu%20pool"
    page = (await client.get(path)).text
    assert "Big &lt;machines&gt;</textarea>" in page
    edited = await post(
        client,
        f"{path}/edit",
        {"csrf_token": csrf, "description": "Small", "concurrency_limit": ""},
    )
    assert await notice_after(client, edited) == "ok: Work pool saved."
    pool = await api_get(client, "/api/work_pools/gpu pool")
    assert (pool["description"], pool["concurrency_limit"]) == ("Small", None)
    refused = await post(
        client, f"{path}/edit", {"csrf_token": csrf, "description": "x", "concurrency_limit": "x"}
    )
    assert refused.status_code == 422
    assert "valid integer" in problem_texts(refused.text)[0]

    paused = await post(client, f"{path}/pause", {"csrf_token": csrf, "paused": "true"})
    assert "paused" in await notice_after(client, paused)
    assert (await api_get(client, "/api/work_pools/gpu pool"))["status"] == "PAUSED"
    await post(client, f"{path}/pause", {"csrf_token": csrf, "paused": "false"})
    assert (await api_get(client, "/api/work_pools/gpu pool"))["is_paused"] is False

    confirm = await client.get(f"{path}/delete")
    assert confirm.status_code == 200
    assert "Delete work pool gpu pool?" in confirm.text
    gone = await post(client, f"{path}/delete", {"csrf_token": csrf})
    assert gone.headers["location"] == "/work-pools"
    assert (await client.get("/api/work_pools/gpu pool")).status_code == 404
    assert (await post(client, f"{path}/edit", {"csrf_token": csrf})).status_code == 404


async def test_queues_of_a_pool(client: httpx.AsyncClient, seeded: Seeded) -> None:
    path = f"/work-pools/{POOL}"
    csrf = await token(client, path)

    async def queues() -> dict[str, dict[str, Any]]:
        found = (await client.post(f"/api/work_pools/{POOL}/queues/filter", json={})).json()
        return {q["name"]: q for q in found}

    made = await post(
        client,
        f"{path}/queues",
        {"csrf_token": csrf, "name": "high", "priority": "1", "concurrency_limit": "2"},
    )
    assert await notice_after(client, made) == "ok: Work queue high created."
    found = await queues()
    assert (found["high"]["priority"], found["high"]["concurrency_limit"]) == (1, 2)
    assert found["default"]["priority"] == 2  # moved down to make room

    for fields, field, expected in [
        ({"name": "high"}, "name", "already exists"),
        ({"name": "a&b"}, "name", "must not contain &"),
        ({"name": "low", "priority": "0"}, "priority", "greater than or equal to 1"),
    ]:
        refused = await post(client, f"{path}/queues", {"csrf_token": csrf, **fields})
        assert_refused_at(refused, field, expected)
    assert sorted(await queues()) == ["default", "high"]

    saved = await post(
        client,
        f"{path}/queues/high",
        {
            "csrf_token": csrf,
            "action": "save",
            "priority": "3",
            "concurrency_limit": "",
            "description": "Paying customers",
        },
    )
    assert await notice_after(client, saved) == "ok: Work queue high saved."
    high = (await queues())["high"]
    assert (high["priority"], high["concurrency_limit"], high["description"]) == (
        3,
        None,
        "Paying customers",
    )
    refused = await post(
        client, f"{path}/queues/high", {"csrf_token": csrf, "action": "save", "priority": "-3"}
    )
    assert refused.status_code == 422
    assert "greater than or equal to 1" in problem_texts(refused.text)[0]

    paused = await post(client, f"{path}/queues/high", {"csrf_token": csrf, "action": "pause"})
    assert await notice_after(client, paused) == "ok: Work queue high paused."
    assert (await queues())["high"]["is_paused"] is True
    await post(client, f"{path}/queues/high", {"csrf_token": csrf, "action": "resume"})
    assert (await queues())["high"]["is_paused"] is False

    # The core refuses to delete the default queue: the refusal is the notice.
    kept = await post(client, f"{path}/queues/default", {"csrf_token": csrf, "action": "delete"})
    notice = await notice_after(client, kept)
    assert notice.startswith("error: Not deleted:")
    assert "default queue" in notice
    assert "default" in await queues()
    gone = await post(client, f"{path}/queues/high", {"csrf_token": csrf, "action": "delete"})
    assert await notice_after(client, gone) == "ok: Work queue high deleted."
    assert sorted(await queues()) == ["default"]
    missing = await post(client, f"{path}/queues/high", {"csrf_token": csrf, "action": "pause"})
    assert missing.status_code == 404


# --- concurrency limits ---------------------------------------------------------------------


async def test_global_limits(client: httpx.AsyncClient, seeded: Seeded) -> None:
    csrf = await token(client, "/concurrency")
    made = await post(
        client,
        "/concurrency/limits",
        {
            "csrf_token": csrf,
            "name": "db-writes",
            "limit": "2",
            "slot_decay_per_second": "0.5",
            "active": "on",
        },
    )
    assert await notice_after(client, made) == "ok: Concurrency limit db-writes created."
    limit = await api_get(client, "/api/v2/concurrency_limits/db-writes")
    assert (limit["limit"], limit["slot_decay_per_second"], limit["active"]) == (2, 0.5, True)

    for fields, field, expected in [
        ({"name": "warehouse-writes", "limit": "1"}, "name", "already exists"),
        ({"name": "x", "limit": "many"}, "limit", "valid integer"),
        ({"name": "x", "limit": "-1"}, "limit", "greater than or equal to 0"),
        (
            {"name": "x", "limit": "1", "slot_decay_per_second": "-1"},
            "slot_decay_per_second",
            "greater than or equal to 0",
        ),
        ({"name": "a/b", "limit": "1"}, "name", "pattern"),
    ]:
        refused = await post(client, "/concurrency/limits", {"csrf_token": csrf, **fields})
        assert_refused_at(refused, field, expected)
    assert (await client.get("/api/v2/concurrency_limits/x")).status_code == 404

    path = f"/concurrency/limits/{limit['id']}"
    saved = await post(
        client,
        path,
        {"csrf_token": csrf, "action": "save", "name": "db-writes", "limit": "5"},
    )  # no "active": the box was unticked
    assert await notice_after(client, saved) == "ok: Concurrency limit saved."
    limit = await api_get(client, "/api/v2/concurrency_limits/db-writes")
    assert (limit["limit"], limit["active"], limit["slot_decay_per_second"]) == (5, False, 0.0)
    refused = await post(
        client, path, {"csrf_token": csrf, "action": "save", "name": "db-writes", "limit": ""}
    )
    assert refused.status_code == 422
    assert "valid integer" in problem_texts(refused.text)[0]

    patch = {"active_slots": 3, "denied_slots": 2}
    assert (await client.patch(f"/api/v2/concurrency_limits/{limit['id']}", json=patch)).is_success
    reset = await post(client, path, {"csrf_token": csrf, "action": "reset"})
    assert "reset" in await notice_after(client, reset)
    limit = await api_get(client, "/api/v2/concurrency_limits/db-writes")
    assert (limit["active_slots"], limit["denied_slots"]) == (0, 0)

    gone = await post(client, path, {"csrf_token": csrf, "action": "delete"})
    assert await notice_after(client, gone) == "ok: Concurrency limit deleted."
    assert (await client.get("/api/v2/concurrency_limits/db-writes")).status_code == 404
    assert (await post(client, path, {"csrf_token": csrf, "action": "delete"})).status_code == 404


async def test_tag_limits(client: httpx.AsyncClient, seeded: Seeded) -> None:
    csrf = await token(client, "/concurrency")
    made = await post(
        client,
        "/concurrency/tags",
        {"csrf_token": csrf, "action": "create", "tag": "gpu", "concurrency_limit": "1"},
    )
    assert await notice_after(client, made) == "ok: Tag gpu limited to 1."
    limit = await api_get(client, "/api/concurrency_limits/tag/gpu")
    assert limit["concurrency_limit"] == 1
    refused = await post(
        client,
        "/concurrency/tags",
        {"csrf_token": csrf, "action": "create", "tag": "cpu", "concurrency_limit": ""},
    )
    assert refused.status_code == 422
    assert "valid integer" in problems_at(refused.text)["concurrency_limit"]
    empty_tag = await post(
        client,
        "/concurrency/tags",
        {"csrf_token": csrf, "action": "create", "tag": "", "concurrency_limit": "1"},
    )
    assert empty_tag.status_code == 422
    assert "at least 1 character" in problem_texts(empty_tag.text)[0]

    holder = "00000000-0000-0000-0000-0000000000aa"
    taken = {"names": ["gpu"], "task_run_id": holder}
    assert (await client.post("/api/concurrency_limits/increment", json=taken)).is_success
    assert (await api_get(client, "/api/concurrency_limits/tag/gpu"))["active_slots"] == [holder]
    reset = await post(
        client, "/concurrency/tags", {"csrf_token": csrf, "action": "reset", "tag": "gpu"}
    )
    assert "reset" in await notice_after(client, reset)
    assert (await api_get(client, "/api/concurrency_limits/tag/gpu"))["active_slots"] == []

    gone = await post(
        client, "/concurrency/tags", {"csrf_token": csrf, "action": "delete", "tag": "gpu"}
    )
    assert await notice_after(client, gone) == "ok: Tag limit gpu deleted."
    assert (await client.get("/api/concurrency_limits/tag/gpu")).status_code == 404


# --- CSRF, roles, audit ---------------------------------------------------------------------


def edit_forms(s: Seeded) -> list[tuple[str, dict[str, str]]]:
    """Every new edit form, with a body that would change something."""
    dep = f"/deployments/{s.deployment_id}"
    pool = f"/work-pools/{POOL}"
    return [
        (f"{dep}/edit", {"description": "changed", "parameters": '{"n": 1}'}),
        (f"{dep}/schedules", {"kind": "interval", "value": "60"}),
        (f"{dep}/delete", {}),
        ("/work-pools", {"name": "sneaky-pool"}),
        (f"{pool}/edit", {"description": "changed"}),
        (f"{pool}/pause", {"paused": "true"}),
        (f"{pool}/queues", {"name": "sneaky-queue"}),
        (f"{pool}/queues/default", {"action": "pause"}),
        (f"{pool}/delete", {}),
        ("/concurrency/limits", {"name": "sneaky-limit", "limit": "1", "active": "on"}),
        ("/concurrency/tags", {"action": "create", "tag": "sneaky", "concurrency_limit": "1"}),
    ]


async def nothing_changed(api: httpx.AsyncClient, s: Seeded) -> None:
    d = await api_get(api, f"/api/deployments/{s.deployment_id}")
    assert d["description"] == "Loads the <b>nightly</b> batch"
    assert len(d["schedules"]) == 1
    pool = await api_get(api, f"/api/work_pools/{POOL}")
    assert (pool["description"], pool["is_paused"]) == (None, False)
    queues = (await api.post(f"/api/work_pools/{POOL}/queues/filter", json={})).json()
    assert [(q["name"], q["is_paused"]) for q in queues] == [("default", False)]
    pools = (await api.post("/api/work_pools/filter", json={})).json()
    assert [p["name"] for p in pools] == [POOL]
    limits = (await api.post("/api/v2/concurrency_limits/filter", json={})).json()
    assert [lim["name"] for lim in limits if not lim["name"].startswith("tag:")] == [
        "warehouse-writes"
    ]


async def test_forms_without_their_token_change_nothing(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    await client.get("/concurrency")  # this browser has its CSRF cookie
    for path, form in edit_forms(seeded):
        for sent in (form, {**form, "csrf_token": "forged"}):
            refused = await post(client, path, sent)
            assert refused.status_code == 403, (path, sent)
            assert "did not come from this site" in refused.text
    await nothing_changed(client, seeded)


PASSWORD = "correct horse battery"


@pytest.fixture
async def locked_app(settings: Settings) -> AsyncIterator[FastAPI]:
    """The app with access control on, a user per role, and the seed data."""
    app = create_app(settings.with_overrides(auth_mode="keys"))
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def admin_api(locked_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    key = (await create_key(locked_app.state.db, "seeder", Role.ADMIN))["key"]
    transport = httpx.ASGITransport(app=locked_app)
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://baton", headers=headers
    ) as api:
        yield api


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """bcrypt's lowest cost for the users made here: its cost is not what is tested."""
    real = bcrypt.gensalt
    monkeypatch.setattr(bcrypt, "gensalt", lambda: real(rounds=4))


@asynccontextmanager
async def signed_in(app: FastAPI, name: str, role: Role) -> AsyncIterator[httpx.AsyncClient]:
    """A browser signed in as a new user of `role`."""
    await add_user(app.state.db, name, role, PASSWORD)
    transport = httpx.ASGITransport(app=app, client=("10.1.2.3", 5000))
    async with httpx.AsyncClient(transport=transport, base_url="http://baton") as client:
        csrf = await token(client, "/login")
        form = {"csrf_token": csrf, "name": name, "password": PASSWORD, "next": "/"}
        assert (await post(client, "/login", form)).status_code == 303
        yield client


FORM_MARKS = (
    '/edit"',
    '/schedules"',
    '/delete"',
    'action="/work-pools"',
    '/pause"',
    '/queues"',
    'action="/concurrency/limits',
    'action="/concurrency/tags"',
    "Reset slots",
)


async def pages_text(client: httpx.AsyncClient, s: Seeded) -> str:
    texts = []
    for path in (
        f"/deployments/{s.deployment_id}",
        "/work-pools",
        f"/work-pools/{POOL}",
        "/concurrency",
    ):
        response = await client.get(path)
        assert response.status_code == 200, path
        texts.append(response.text)
    return "\n".join(texts)


async def test_read_only_roles_see_no_forms_and_are_refused(
    locked_app: FastAPI, admin_api: httpx.AsyncClient
) -> None:
    s = await seed(admin_api)
    limit = {"tag": "gpu", "concurrency_limit": 1}
    assert (await admin_api.post("/api/concurrency_limits/", json=limit)).is_success
    async with signed_in(locked_app, "dev", Role.DEVELOPER) as dev:
        shown = await pages_text(dev, s)
        for mark in FORM_MARKS:
            assert mark in shown, mark
    for name, role in (("vic", Role.VIEWER), ("wes", Role.WORKER)):
        async with signed_in(locked_app, name, role) as client:
            shown = await pages_text(client, s)
            for mark in FORM_MARKS:
                assert mark not in shown, (name, mark)
            assert "warehouse-writes" in shown  # still shown, read only
            confirm = await client.get(f"/deployments/{s.deployment_id}/delete")
            assert confirm.status_code == 403
            csrf = await token(client, "/concurrency")
            forms = [
                *edit_forms(s),
                ("/concurrency/tags", {"action": "delete", "tag": "gpu"}),
                ("/concurrency/tags", {"action": "reset", "tag": "gpu"}),
            ]
            for path, form in forms:
                refused = await post(client, path, {"csrf_token": csrf, **form})
                assert refused.status_code == 403, (name, path)
                assert "Forbidden: the " in refused.text
    await nothing_changed(admin_api, s)
    assert (await admin_api.get("/api/concurrency_limits/tag/gpu")).status_code == 200


async def test_edits_are_audited(locked_app: FastAPI, admin_api: httpx.AsyncClient) -> None:
    s = await seed(admin_api)
    async with signed_in(locked_app, "dev", Role.DEVELOPER) as dev:
        csrf = await token(dev, "/work-pools")
        made = await post(dev, "/work-pools", {"csrf_token": csrf, "name": "audited"})
        assert made.status_code == 303
        path = f"/work-pools/{POOL}/queues/default"
        kept = await post(dev, path, {"csrf_token": csrf, "action": "delete"})
        assert kept.status_code == 303
    async with signed_in(locked_app, "vic", Role.VIEWER) as vic:
        csrf = await token(vic, "/concurrency")
        form = {"csrf_token": csrf, "name": "nope", "limit": "1"}
        assert (await post(vic, "/concurrency/limits", form)).status_code == 403
    await locked_app.state.audit.flush()
    entries = [
        (e["actor"], e["action"], e["object"], e["status"])
        for e in await list_audit(locked_app.state.db)
        if e["action"].startswith("UI POST") and "/login" not in e["action"]
    ]
    assert entries == [
        ("vic", "UI POST /concurrency/limits limit-create", "/concurrency/limits", 403),
        ("dev", "UI POST /work-pools/{name}/queues/{queue_name} queue-delete", path, 303),
        ("dev", "UI POST /work-pools pool-create", "/work-pools", 303),
    ]
    assert s.deployment_id  # the seed ran under access control
