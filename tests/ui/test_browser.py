"""The UI in real headless Chromium (Debian's package) against a real `baton server start`,
with data made over the HTTP API: pages render with no console or CSP errors, tabs and forms
work by clicking, run-now creates a run, live logs and state changes appear without a
reload. Screenshots of each page land in $BATON_UI_SCREENSHOTS (or a temporary folder)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support.server import baton_env, baton_server
from tests.ui.cdp import CHROMIUM, Page, chromium
from tests.ui.data import HOSTILE, POOL, Seeded, logs, seed, set_run_state

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="/usr/bin/chromium is missing: `make system-deps` installs Debian's chromium",
)


@dataclass
class Site:
    url: str
    data: Seeded
    shots: Path


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    home = tmp_path_factory.mktemp("baton-home")
    shots = Path(os.environ.get("BATON_UI_SCREENSHOTS") or tmp_path_factory.mktemp("shots"))
    shots.mkdir(parents=True, exist_ok=True)
    with baton_server(baton_env(home)) as server:

        async def make() -> Seeded:
            async with httpx.AsyncClient(base_url=server.base_url) as client:
                return await seed(client)

        yield Site(server.base_url, asyncio.run(make()), shots)


async def api(site: Site) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=site.url)


def no_errors(page: Page, *expected: str) -> None:
    """No console error, exception or browser error, but those `expected` (Chromium logs
    every 4xx document as a failed load: a refused form answers 422 on purpose)."""
    errors = [e for e in page.errors if not any(x in e for x in expected)]
    assert errors == [], "\n".join(errors)


async def test_every_page_renders_cleanly(site: Site) -> None:
    d = site.data
    pages = {
        "dashboard": ("/", "Flow runs by state"),
        "runs": ("/runs", "failing-run"),
        "run": (f"/runs/{d.running_id}", "hello from the flow"),
        "subflow": (f"/runs/{d.subflow_id}", "inner-task-0"),
        "flows": ("/flows", "etl-flow"),
        "flow": (f"/flows/{d.flow_id}", "nightly"),
        "deployments": ("/deployments", "every day at 09:00"),
        "deployment": (f"/deployments/{d.deployment_id}", "Run now"),
        "work-pools": ("/work-pools", POOL),
        "work-pool": (f"/work-pools/{POOL}", "worker-1"),
        "logs": ("/logs", "hello from the flow"),
        "artifacts": ("/artifacts", "Nightly report"),
        "artifact": (f"/artifacts/{d.artifact_id}", "Rows: 7"),
        "variables": ("/variables", "batch_size"),
        "events": ("/events", "prefect.flow-run."),
        "concurrency": ("/concurrency", "nightly"),
    }
    async with chromium() as page:
        for name, (path, expected) in pages.items():
            await page.goto(site.url + path)
            text = await page.text()
            assert expected in text, (path, expected)
            # Our one script ran: times were turned into local time.
            if await page.eval("document.querySelector('time[datetime]') !== null"):
                await page.wait_for("document.querySelector('time[data-local]') !== null")
            await page.screenshot(site.shots / f"{name}.png")
        # The hostile run name is text, never markup: only our own script is on the page.
        await page.goto(f"{site.url}/runs/{d.running_id}")
        assert await page.eval("document.querySelector('h1').textContent") == HOSTILE
        assert await page.eval("document.scripts.length") == 1
        # A phone-sized screen still shows the page.
        await page.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True},
        )
        await page.goto(f"{site.url}/runs")
        await page.screenshot(site.shots / "runs-phone.png")
        no_errors(page)


async def test_tabs_filters_and_keyboard(site: Site) -> None:
    d = site.data
    async with chromium() as page:
        await page.goto(f"{site.url}/runs/{d.running_id}")
        loaded = page.expect("Page.loadEventFired")
        await page.click('a[href$="?tab=tasks"]')
        await asyncio.wait_for(loaded, 15)
        assert await page.eval("location.search") == "?tab=tasks"
        assert "transform-0" in await page.text()
        assert await page.eval("document.querySelector('[aria-current=page]').textContent")

        # The run list's filter form: tick Failed, apply, and the URL carries the filter.
        await page.goto(f"{site.url}/runs")
        await page.click("input[name=state][value=FAILED]")
        loaded = page.expect("Page.loadEventFired")
        await page.click("form.filters button[type=submit]")
        await asyncio.wait_for(loaded, 15)
        assert "state=FAILED" in await page.eval("location.search")
        text = await page.text()
        assert "failing-run" in text
        assert "finished-run" not in text

        # Keyboard: the skip link is the first stop, and it is visible when focused.
        await page.send("Input.dispatchKeyEvent", {"type": "keyDown", "key": "Tab", "code": "Tab"})
        await page.send("Input.dispatchKeyEvent", {"type": "keyUp", "key": "Tab", "code": "Tab"})
        assert await page.eval("document.activeElement.className") == "skip"
        no_errors(page)


async def test_run_now_creates_a_run(site: Site) -> None:
    path = f"{site.url}/deployments/{site.data.deployment_id}"
    async with chromium() as page:
        await page.goto(path)
        await page.eval(
            "document.querySelector('input[name=\"param.n\"]').value = '42';"
            "document.querySelector('input[name=name]').value = 'clicked-in-chromium';"
        )
        loaded = page.expect("Page.loadEventFired")
        await page.click(".run-form button[type=submit]")
        await asyncio.wait_for(loaded, 15)
        assert "/runs/" in await page.eval("location.pathname")
        text = await page.text()
        assert "Flow run clicked-in-chromium created." in text
        assert '"n":42' in text

        # A refused value comes back on the form, with the reason next to the field.
        await page.goto(path)
        await page.eval("document.querySelector('input[name=\"param.n\"]').value = ''")
        await page.eval("document.querySelector('textarea[name=\"param.extra\"]').value = '[1, 2]'")
        loaded = page.expect("Page.loadEventFired")
        await page.click(".run-form button[type=submit]")
        await asyncio.wait_for(loaded, 15)
        assert "Parameter 'extra' is invalid" in await page.text()
        no_errors(page, "status of 422 (Unprocessable Entity)")
    async with await api(site) as client:
        found = await client.post(
            "/api/flow_runs/filter",
            json={"flow_runs": {"name": {"any_": ["clicked-in-chromium"]}}},
        )
        [run] = found.json()
        assert run["parameters"]["n"] == 42
        assert run["deployment_id"] == site.data.deployment_id


async def test_live_logs_and_state_arrive_without_reload(site: Site) -> None:
    async with await api(site) as client:
        run = (
            await client.post(
                f"/api/deployments/{site.data.deployment_id}/create_flow_run",
                json={"name": "live-run", "parameters": {"n": 1}},
            )
        ).json()
        await set_run_state(client, run["id"], "PENDING")
        await set_run_state(client, run["id"], "RUNNING")
        async with chromium() as page:
            await page.goto(f"{site.url}/runs/{run['id']}")
            assert "No logs yet" in await page.text()
            await page.eval("window.__sameDocument = true")
            await logs(client, run["id"], (20, "first live line"), (40, "second <i>live</i> line"))
            await page.wait_for(
                "document.querySelector('#log-rows').innerText.includes('second <i>live</i> line')"
            )
            rows = await page.eval("document.querySelectorAll('#log-rows tr[data-cursor]').length")
            assert rows == 2
            await set_run_state(client, run["id"], "COMPLETED")
            await page.wait_for(
                "document.querySelector('#run-header .badge').textContent.trim() === 'Completed'"
            )
            # No reload happened: the page is the same document.
            assert await page.eval("window.__sameDocument") is True
            await logs(client, run["id"], (20, "late straggler"))
            await page.wait_for("document.body.innerText.includes('late straggler')")
            assert (
                await page.eval("document.querySelectorAll('#log-rows tr[data-cursor]').length")
                == 3
            )
            await page.screenshot(site.shots / "run-live.png")
            no_errors(page)


async def test_bulk_cancel_from_the_list(site: Site) -> None:
    async with await api(site) as client:
        run = (
            await client.post(
                f"/api/deployments/{site.data.deployment_id}/create_flow_run",
                json={"name": "cancel-me-please", "parameters": {"n": 1}},
            )
        ).json()
        async with chromium() as page:
            await page.goto(f"{site.url}/runs?q=cancel-me-please")
            await page.click(f'input[name=run][value="{run["id"]}"]')
            loaded = page.expect("Page.loadEventFired")
            await page.click("button[name=action][value=cancel]")
            await asyncio.wait_for(loaded, 15)
            assert "Cancelled 1 run." in await page.text()
            assert await page.eval("location.search") == "?q=cancel-me-please"
            no_errors(page)
        state = (await client.get(f"/api/flow_runs/{run['id']}")).json()["state_type"]
        assert state == "CANCELLED"
