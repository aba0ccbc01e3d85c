"""The UI in real headless Chromium (Debian's package, driven by Playwright) against a real
`baton server start`, with data made by the real Prefect client: pages render with no
console or CSP errors, tabs, filters and forms work by clicking and typing, the back button
restores a filter, run-now creates a run, cancel cancels, live logs and state changes
appear without a reload. Screenshots of each page land in $BATON_UI_SCREENSHOTS (or a
temporary folder)."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from playwright.sync_api import Page, expect

from tests.ui.conftest import Site, no_errors
from tests.ui.prefect_data import HOSTILE, POOL, live_flow, run_named


def localized(page: Page) -> None:
    """Our one script ran: times were turned into local time."""
    if page.locator("time[datetime]").count():
        expect(page.locator("time[data-local]").first).to_be_attached()


def test_every_page_renders_cleanly(
    site: Site, page: Page, console: list[str], shots: Path
) -> None:
    d = site.data
    pages = {
        "dashboard": ("/", ["Flow runs by state", "failing-run"]),
        "runs": ("/runs", ["failing-run", "nightly-load", "cancel-me-please"]),
        "run": (f"/runs/{d.completed_id}", ["hello from the flow", "boom <b>not bold</b>"]),
        "run-tasks": (f"/runs/{d.completed_id}?tab=tasks", ["extract-", "transform-", "load-"]),
        "run-artifacts": (f"/runs/{d.completed_id}?tab=artifacts", ["report", "rows"]),
        "failed-run": (f"/runs/{d.failed_id}", ["ValueError: bad row"]),
        "subflow": (f"/runs/{d.subflow_id}", ["inner-task-", "the subflow runs"]),
        "flows": ("/flows", ["etl-flow", "failing-flow", "child-flow"]),
        "flow": (f"/flows/{d.flow_id}", ["nightly", "nightly-load"]),
        "deployments": ("/deployments", ["every day at 09:00", "America/New_York"]),
        "deployment": (f"/deployments/{d.deployment_id}", ["Run now", "cancel-me-please"]),
        "work-pools": ("/work-pools", [POOL]),
        "work-pool": (f"/work-pools/{POOL}", ["worker-1", "default"]),
        "logs": ("/logs", ["hello from the flow", "about to fail"]),
        "artifacts": ("/artifacts", ["Nightly report"]),
        "artifact": (f"/artifacts/{d.artifact_id}", ["Rows: 7"]),
        "variables": ("/variables", ["batch_size"]),
        "events": ("/events", ["prefect.flow-run."]),
        "concurrency": ("/concurrency", ["nightly", "warehouse-writes"]),
    }
    for name, (path, expected) in pages.items():
        page.goto(site.url + path)
        text = page.locator("body").inner_text()
        for words in expected:
            assert words in text, (path, words)
        localized(page)
        # Names, messages and markdown are text, never markup: our own script is the only one.
        assert page.evaluate("document.scripts.length") == 1, path
        page.screenshot(path=shots / f"{name}.png")
    page.goto(f"{site.url}/runs/{d.hostile_id}")
    expect(page.locator("h1")).to_have_text(HOSTILE)
    assert page.evaluate("document.scripts.length") == 1
    # A phone-sized screen still shows the page.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{site.url}/runs")
    expect(page.locator("h1")).to_be_visible()
    page.screenshot(path=shots / "runs-phone.png")
    no_errors(console)


def test_tabs_and_keyboard(site: Site, page: Page, console: list[str]) -> None:
    page.goto(f"{site.url}/runs/{site.data.completed_id}")
    page.click('a[href$="?tab=tasks"]')
    expect(page).to_have_url(re.compile(r"\?tab=tasks$"))
    expect(page.locator("main")).to_contain_text("transform-")
    expect(page.locator('a[href$="?tab=tasks"]')).to_have_attribute("aria-current", "page")
    # Keyboard: the skip link is the first stop, and it is visible when focused.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    expect(page.locator(".skip")).to_be_visible()
    no_errors(console)


def test_run_filters_live_in_the_url(site: Site, page: Page, console: list[str]) -> None:
    page.goto(f"{site.url}/runs")
    rows = page.locator("main table")
    expect(rows).to_contain_text("nightly-load")
    # Tick Failed, apply: the URL carries the filter and only the failed run is left.
    page.check("input[name=state][value=FAILED]")
    page.click("form.filters button[type=submit]")
    expect(page).to_have_url(re.compile(r"[?&]state=FAILED"))
    expect(rows).to_contain_text("failing-run")
    expect(rows).not_to_contain_text("nightly-load")
    # Clear it, then type a name and a tag, pick the flow.
    page.uncheck("input[name=state][value=FAILED]")
    page.fill("input[name=q]", "nightly")
    page.fill("input[name=tag]", "blue")
    page.select_option("select[name=flow]", label="etl-flow")
    page.click("form.filters button[type=submit]")
    expect(page).to_have_url(re.compile(r"[?&]q=nightly"))
    assert "tag=blue" in page.url
    assert f"flow={site.data.flow_id}" in page.url
    assert "state=" not in page.url
    expect(rows).to_contain_text("nightly-load")
    expect(rows).not_to_contain_text("failing-run")
    expect(rows).not_to_contain_text("cancel-me-please")
    # A tag no run has: nothing matches.
    page.fill("input[name=tag]", "no-such-tag")
    page.press("input[name=tag]", "Enter")
    expect(page).to_have_url(re.compile(r"tag=no-such-tag"))
    expect(page.locator("main")).not_to_contain_text("nightly-load")
    # Back, back: each filter comes back, with its form filled in.
    page.go_back()
    expect(page).to_have_url(re.compile(r"tag=blue"))
    expect(page.locator("input[name=q]")).to_have_value("nightly")
    expect(page.locator("input[name=tag]")).to_have_value("blue")
    expect(rows).to_contain_text("nightly-load")
    page.go_back()
    expect(page).to_have_url(re.compile(r"[?&]state=FAILED"))
    expect(page.locator("input[name=state][value=FAILED]")).to_be_checked()
    expect(page.locator("input[name=q]")).to_have_value("")
    expect(rows).to_contain_text("failing-run")
    expect(rows).not_to_contain_text("nightly-load")
    no_errors(console)


def test_run_now_creates_a_run(site: Site, page: Page, console: list[str]) -> None:
    path = f"{site.url}/deployments/{site.data.deployment_id}"
    page.goto(path)
    form = page.locator(".run-form")
    form.locator('input[name="param.n"]').fill("42")
    form.locator("input[name=name]").fill("clicked-in-chromium")
    form.locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/runs/[0-9a-f-]{36}"))
    expect(page.locator("main")).to_contain_text("Flow run clicked-in-chromium created.")
    expect(page.locator("main")).to_contain_text('"n":42')

    # A refused value comes back on the form, with the reason next to the field.
    page.goto(path)
    form.locator('input[name="param.n"]').fill("")
    form.locator('[name="param.extra"]').fill("[1, 2]")
    form.locator("button[type=submit]").click()
    expect(page.locator("main")).to_contain_text("Parameter 'extra' is invalid")
    no_errors(console, "status of 422 (Unprocessable Entity)")
    [run] = site.prefect.post(
        "/flow_runs/filter", {"flow_runs": {"name": {"any_": ["clicked-in-chromium"]}}}
    )
    assert run["parameters"]["n"] == 42
    assert run["deployment_id"] == site.data.deployment_id


def test_live_logs_and_state_arrive_without_reload(
    site: Site, page: Page, console: list[str], shots: Path, tmp_path: Path
) -> None:
    go = tmp_path / "go"
    with live_flow(site.prefect, "live-run", "--go", str(go)) as flow:
        run = run_named(site.prefect, "live-run")
        page.goto(f"{site.url}/runs/{run['id']}")
        expect(page.locator("#run-header .badge")).to_have_text("Running")
        # The client sends its logs in batches: the first line arrives by itself.
        expect(page.locator("#log-rows")).to_contain_text("first live line")
        page.evaluate("window.__sameDocument = true")
        go.touch()
        expect(page.locator("#log-rows")).to_contain_text("second <i>live</i> line")
        expect(page.locator("#run-header .badge")).to_have_text("Completed")
        flow.finish()
    # The engine's closing line comes in its last batch.
    expect(page.locator("#log-rows")).to_contain_text("Finished in state Completed")
    # No reload happened: the page is the same document.
    assert page.evaluate("window.__sameDocument") is True
    assert page.locator("#log-rows i").count() == 0  # the message is text, never markup
    messages = page.locator("#log-rows tr[data-cursor] td.msg").all_inner_texts()
    assert len(messages) == len(set(messages)), messages  # no row appended twice
    page.screenshot(path=shots / "run-live.png")
    no_errors(console)


def test_cancel_from_the_list(site: Site, page: Page, console: list[str]) -> None:
    run_id = site.data.cancel_id
    page.goto(f"{site.url}/runs?q=cancel-me-please")
    page.check(f'input[name=run][value="{run_id}"]')
    page.click("button[name=action][value=cancel]")
    expect(page.locator("main")).to_contain_text("Cancelled 1 run.")
    expect(page).to_have_url(re.compile(r"\?q=cancel-me-please$"))
    no_errors(console)
    state = httpx.get(f"{site.prefect.api}/flow_runs/{run_id}", timeout=30).json()
    assert state["state_type"] == "CANCELLED"
