"""A run-detail page left open while its run streams thousands of log lines (the real Prefect
client's logger) keeps a bounded page: the appended log rows are capped, the regions that
refresh (header, timeline) replace their content rather than pile it up, and the DOM and
the JS heap (measured after a forced garbage collection, over the DevTools protocol) stop
growing once the cap is reached."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import CDPSession, Page, expect

from tests.compat.conftest import Prefect
from tests.ui.conftest import no_errors
from tests.ui.prefect_data import live_flow, run_named

CAP = 2000  # MAX_APPENDED_ROWS in baton.js
BURST = 2300  # lines logged at once: more than the cap
RATE = 40  # then lines a second, until the test is done


def metrics(cdp: CDPSession) -> dict[str, float]:
    cdp.send("HeapProfiler.collectGarbage")
    got = cdp.send("Performance.getMetrics")
    return {m["name"]: m["value"] for m in got["metrics"]}


def test_open_run_page_stays_bounded(
    prefect_server: Prefect, page: Page, console: list[str], tmp_path: Path
) -> None:
    go, stop = tmp_path / "go", tmp_path / "stop"
    args = ["--go", str(go), "--burst", str(BURST), "--rate", str(RATE), "--task-every", "1"]
    args += ["--stop", str(stop)]
    with live_flow(prefect_server, "chatty-run", *args) as flow:
        run = run_named(prefect_server, "chatty-run")
        cdp = page.context.new_cdp_session(page)
        cdp.send("Performance.enable")
        page.goto(f"{prefect_server.server.base_url}/runs/{run['id']}")
        rows = page.locator("#log-rows tr[data-cursor]")
        expect(page.locator("#log-rows")).to_contain_text("first live line")
        go.touch()  # the burst starts once the page is open and live
        expect(rows).to_have_count(CAP, timeout=45_000)
        full = metrics(cdp)
        # Keep it streaming: the rest of the burst, then steady lines and a task a second,
        # while the header and the timeline refresh.
        expect(page.locator("#log-rows")).to_contain_text("steady line", timeout=30_000)
        for _ in range(2):
            last = rows.last.get_attribute("data-cursor") or ""
            expect(rows.last).not_to_have_attribute("data-cursor", last, timeout=15_000)
        assert rows.count() == CAP
        # Nothing but rows is left behind as rows come and go (a text node per dropped row
        # grew the page by ~600 nodes a minute at 10 lines a second).
        children = page.eval_on_selector("#log-rows", "el => el.childNodes.length")
        assert children <= CAP + 1, children
        later = metrics(cdp)
        stop.touch()
        flow.finish()
    assert page.locator("#run-header").count() == 1
    # Rows are swapped one for one at the cap: the DOM and the heap stay where they were.
    assert later["Nodes"] <= full["Nodes"] * 1.05, (full["Nodes"], later["Nodes"])
    assert later["JSHeapUsedSize"] <= full["JSHeapUsedSize"] * 1.5 + 2e6, (
        full["JSHeapUsedSize"],
        later["JSHeapUsedSize"],
    )
    no_errors(console)
