"""The live lists in-process against a real database (SQLite and PostgreSQL): the runs
list, the dashboard and a pool's runs waiting are live regions whose URL answers 304 with
no body while nothing they show has changed, and the new fragment once something has.
The version token is read before the region, so the clock is frozen where a shown time
moves by itself (durations, the dashboard's bars, runs falling due)."""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Callable

import httpx
import pytest

from baton.clock import utcnow
from baton.ui import rendering
from baton.ui.queries import runs
from tests.ui.data import POOL, Seeded, flow_run, seed, set_run_state
from tests.ui.test_pages import names_in, post, token


@pytest.fixture
async def seeded(client: httpx.AsyncClient) -> Seeded:
    return await seed(client)


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> Callable[[dt.timedelta], None]:
    """Freeze the clock of the live pages at now; `move(delta)` moves it on."""
    at = [utcnow()]
    for module in ("runs", "dashboard", "work_pools"):
        monkeypatch.setattr(f"baton.ui.pages.{module}.utcnow", lambda: at[0])

    def move(delta: dt.timedelta) -> None:
        at[0] += delta

    return move


async def fetch(client: httpx.AsyncClient, path: str, etag: str | None = None) -> httpx.Response:
    headers = {"If-None-Match": etag} if etag else {}
    response = await client.get(path, headers=headers)
    assert response.status_code in (200, 304), (path, response.status_code, response.text[:300])
    return response


def live_url(page: str, region: str) -> str:
    found = re.search(rf'id="{region}" data-live="([^"]+)"', page)
    assert found, f"no live region {region}"
    return html.unescape(found.group(1))


async def assert_unchanged(client: httpx.AsyncClient, path: str, etag: str) -> None:
    again = await fetch(client, path, etag)
    assert again.status_code == 304, again.text[:300]
    assert again.content == b""
    assert again.headers["etag"] == etag


async def test_runs_list_region(
    client: httpx.AsyncClient, seeded: Seeded, frozen: Callable[[dt.timedelta], None]
) -> None:
    page = (await client.get("/runs?state=FAILED&state=COMPLETED&sort=name")).text
    path = live_url(page, "run-list")
    assert path == "/live/runs?state=FAILED&state=COMPLETED&sort=name"
    first = await fetch(client, path)
    assert first.status_code == 200
    assert "<html" not in first.text
    assert names_in(first.text) == ["failing-run", "finished-run"]
    assert "2 runs match" in first.text
    # The fragment is the region as the page renders it.
    assert first.text.strip() in page
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "no-cache"
    await assert_unchanged(client, path, etag)

    # A change elsewhere does not touch this list; one in it does.
    await set_run_state(client, seeded.running_id, "COMPLETED")
    changed = await fetch(client, path, etag)
    assert changed.status_code == 200
    assert names_in(changed.text) == [
        "<script>alert('pwned')</script>",
        "failing-run",
        "finished-run",
    ]
    assert "3 runs match" in changed.text
    etag = changed.headers["etag"]
    await assert_unchanged(client, path, etag)
    await client.delete(f"/api/flow_runs/{seeded.failed_id}")
    gone = await fetch(client, path, etag)
    assert gone.status_code == 200
    assert "failing-run" not in names_in(gone.text)

    # A shown run changing state (the same rows, the same count) is sent again.
    queued = await flow_run(
        client, seeded.flow_id, "queued-run", state={"type": "SCHEDULED", "name": "Scheduled"}
    )
    before = await fetch(client, "/live/runs?q=queued")
    assert names_in(before.text) == ["queued-run"]
    await assert_unchanged(client, "/live/runs?q=queued", before.headers["etag"])
    await set_run_state(client, queued["id"], "PENDING")
    pending = await fetch(client, "/live/runs?q=queued", before.headers["etag"])
    assert pending.status_code == 200
    assert "Pending" in pending.text

    # Other filters are other regions, with their own versions.
    other = await fetch(client, "/live/runs?state=RUNNING")
    assert other.headers["etag"] != gone.headers["etag"]
    assert names_in(other.text) == ["child-subflow"]


async def test_a_new_run_appears_and_durations_tick(
    client: httpx.AsyncClient, seeded: Seeded, frozen: Callable[[dt.timedelta], None]
) -> None:
    first = await fetch(client, "/live/runs")
    etag = first.headers["etag"]
    await assert_unchanged(client, "/live/runs", etag)
    await flow_run(client, seeded.flow_id, "brand-new-run")
    newer = await fetch(client, "/live/runs", etag)
    assert newer.status_code == 200
    assert "brand-new-run" in names_in(newer.text)
    etag = newer.headers["etag"]
    await assert_unchanged(client, "/live/runs", etag)
    # Running runs are shown: their durations are sent again every few seconds.
    frozen(dt.timedelta(seconds=11))
    assert (await fetch(client, "/live/runs", etag)).status_code == 200
    # A list without running runs stays the same however long it is open.
    done = await fetch(client, "/live/runs?state=COMPLETED")
    frozen(dt.timedelta(minutes=5))
    await assert_unchanged(client, "/live/runs?state=COMPLETED", done.headers["etag"])


async def test_ticked_runs_and_the_bulk_form_are_outside_the_rows(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    """The bulk form wraps the region: its token and return address stay when rows change."""
    page = (await client.get("/runs")).text
    form = page.split('<form method="post" action="/runs/bulk">', 1)[1]
    assert form.index('name="csrf_token"') < form.index('id="run-list"')
    region = (await fetch(client, "/live/runs")).text
    assert 'name="csrf_token"' not in region
    assert f'name="run" value="{seeded.completed_id}"' in region
    csrf = await token(client)
    done = await post(
        client,
        "/runs/bulk",
        {"csrf_token": csrf, "action": "delete", "run": seeded.completed_id, "return_to": "/runs"},
    )
    assert done.status_code == 303


async def test_dashboard_region(
    client: httpx.AsyncClient, seeded: Seeded, frozen: Callable[[dt.timedelta], None]
) -> None:
    page = (await client.get("/?window=7d")).text
    path = live_url(page, "dashboard-body")
    assert path == "/live/dashboard?window=7d"
    first = await fetch(client, path)
    assert "Flow runs by state, last 7d" in first.text
    assert "failing-run" in first.text
    etag = first.headers["etag"]
    await assert_unchanged(client, path, etag)

    later = await flow_run(client, seeded.flow_id, "fails-later")
    await set_run_state(client, later["id"], "RUNNING")
    running = await fetch(client, path, etag)  # counted among the open runs, not failed
    assert "fails-later" not in running.text
    await set_run_state(client, later["id"], "FAILED")
    changed = await fetch(client, path, etag)
    assert changed.status_code == 200
    assert "fails-later" in changed.text
    etag = changed.headers["etag"]
    await assert_unchanged(client, path, etag)

    # A paused pool shows as paused.
    await client.patch(f"/api/work_pools/{POOL}", json={"is_paused": True})
    paused = await fetch(client, path, etag)
    assert paused.status_code == 200
    assert "pool-paused" in paused.text
    etag = paused.headers["etag"]
    # The next bar of the chart begins: the chart moves along.
    frozen(dt.timedelta(hours=6))
    assert (await fetch(client, path, etag)).status_code == 200
    # The other window is another region.
    assert (await fetch(client, "/live/dashboard?window=24h")).headers["etag"] != etag


async def test_pool_waiting_region(
    client: httpx.AsyncClient, seeded: Seeded, frozen: Callable[[dt.timedelta], None]
) -> None:
    page = (await client.get(f"/work-pools/{POOL}")).text
    path = live_url(page, "pool-waiting")
    assert path == f"/work-pools/{POOL}/live/waiting"
    first = await fetch(client, path)
    assert "No runs waiting." in first.text
    etag = first.headers["etag"]
    await assert_unchanged(client, path, etag)

    soon = (utcnow() + dt.timedelta(minutes=10)).isoformat()
    made = await client.post(
        f"/api/deployments/{seeded.deployment_id}/create_flow_run",
        json={
            "name": "waits-its-turn",
            "state": {"type": "SCHEDULED", "state_details": {"scheduled_time": soon}},
        },
    )
    assert made.status_code == 201, made.text
    waiting = await fetch(client, path, etag)
    assert waiting.status_code == 200
    assert "waits-its-turn" in waiting.text
    assert "0 due now" in waiting.text
    etag = waiting.headers["etag"]
    await assert_unchanged(client, path, etag)
    frozen(dt.timedelta(minutes=11))  # it falls due
    due = await fetch(client, path, etag)
    assert due.status_code == 200
    assert "1 due now" in due.text

    assert (await client.get("/work-pools/nope/live/waiting")).status_code == 404


async def test_each_url_has_its_own_version(client: httpx.AsyncClient, seeded: Seeded) -> None:
    """An ETag of one URL never answers another's: the query is part of the version."""
    a = await fetch(client, "/live/runs?limit=25")
    b = await fetch(client, "/live/runs?limit=50")
    assert a.headers["etag"] != b.headers["etag"]
    refused = await fetch(client, "/live/runs?limit=50", a.headers["etag"])
    assert refused.status_code == 200


async def test_the_script_pauses_in_hidden_tabs_and_sends_etags(client: httpx.AsyncClient) -> None:
    script = (await client.get("/static/baton.js")).text
    assert '"If-None-Match"' in script
    assert '"visibilitychange"' in script
    assert "document.hidden" in script


async def test_an_unchanged_region_is_neither_read_nor_rendered(
    client: httpx.AsyncClient, seeded: Seeded, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    real_render, real_page = rendering.render_text, runs.run_page

    def render(*args: object, **kwargs: object) -> str:
        calls.append("render")
        return real_render(*args, **kwargs)  # type: ignore[arg-type]

    async def run_page(*args: object, **kwargs: object) -> object:
        calls.append("read")
        return await real_page(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(rendering, "render_text", render)
    monkeypatch.setattr(runs, "run_page", run_page)
    first = await fetch(client, "/live/runs?state=COMPLETED")
    assert calls == ["read", "render"]
    calls.clear()
    await assert_unchanged(client, "/live/runs?state=COMPLETED", first.headers["etag"])
    assert calls == []
