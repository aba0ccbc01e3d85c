"""The edit forms and the live lists in real headless Chromium (Debian's package, driven by
Playwright) against a real `baton server start` with data made by the real Prefect client:
a deployment's fields, parameters and schedules; a new work pool, its description, pause,
queues and the default queue that cannot be deleted; a global concurrency limit from
creation to deletion; the runs list taking in a run made over the API without a reload
(ticked boxes stay ticked) and asking nothing while its tab is hidden. Every step is done
by clicking and typing, with no console or CSP error, and leaves a screenshot in
$BATON_UI_SCREENSHOTS (or a temporary folder) named edit-*.png or live-*.png."""

from __future__ import annotations

import datetime as dt
import re
import time
from pathlib import Path

from playwright.sync_api import Dialog, Locator, Page, Request, expect

from tests.ui.conftest import Site, no_errors

# A refused form answers 422 on purpose; Chromium logs that document as a failed load.
REFUSED = "status of 422"


def accept_dialogs(page: Page) -> list[str]:
    """Accept every confirm() the page asks (data-confirm buttons); returns their texts."""
    asked: list[str] = []

    def answer(dialog: Dialog) -> None:
        asked.append(dialog.message)
        dialog.accept()

    page.on("dialog", answer)
    return asked


def notice(page: Page) -> Locator:
    return page.locator("p.notice[role=status]")


def row(page: Page, first_cell: str) -> Locator:
    """The table row whose first cell starts with `first_cell`."""
    cell = page.locator("td:first-child", has_text=re.compile("^" + re.escape(first_cell)))
    return page.locator("table.list tbody tr").filter(has=cell)


def fact(page: Page, term: str) -> Locator:
    """The <dd> after the <dt> named `term` in a page's facts."""
    return page.locator(f"dl.facts dt:text-is('{term}') + dd")


def test_deployment_edit_and_schedules(
    site: Site, page: Page, console: list[str], shots: Path
) -> None:
    asked = accept_dialogs(page)
    path = f"{site.url}/deployments/{site.data.deployment_id}"
    page.goto(path)
    edit = page.locator("details.edit:has(#edit-title)")
    expect(edit.locator("#dep-tags")).to_be_hidden()  # folded until asked for
    edit.locator("summary").click()
    page.fill("#dep-tags", "nightly, edited-in-browser")
    page.fill("#dep-limit", "3")
    page.screenshot(path=shots / "edit-deployment-form.png")
    edit.get_by_role("button", name="Save").click()
    expect(notice(page)).to_have_text("Deployment saved.")
    expect(page).to_have_url(path)
    expect(fact(page, "Tags")).to_contain_text("edited-in-browser")
    expect(fact(page, "Concurrency limit")).to_have_text("3")
    page.screenshot(path=shots / "edit-deployment-saved.png")
    got = site.prefect.get(f"/deployments/{site.data.deployment_id}")
    assert sorted(got["tags"]) == ["edited-in-browser", "nightly"]
    assert got["concurrency_limit"] == 3

    # Parameters that are not JSON: the form comes back open, the error under that field.
    edit.locator("summary").click()
    page.fill("#dep-params", "{oops")
    edit.get_by_role("button", name="Save").click()
    problem = page.locator(".field:has(#dep-params) .problem[role=alert]")
    expect(problem).to_be_visible()
    expect(problem).to_contain_text("not valid JSON")
    expect(page.locator("#dep-params")).to_have_value("{oops")  # what was typed is kept
    expect(notice(page)).to_have_count(0)
    problem.scroll_into_view_if_needed()
    page.screenshot(path=shots / "edit-deployment-bad-parameters.png")
    assert site.prefect.get(f"/deployments/{site.data.deployment_id}")["concurrency_limit"] == 3

    # A new interval schedule, then pause, resume and delete it.
    page.goto(path)
    schedules = page.locator("ul.schedules > li")
    before = schedules.count()
    page.locator("summary", has_text="Add a schedule").click()
    page.select_option("#sched-kind", "interval")
    page.fill("#sched-value", "3600")
    page.get_by_role("button", name="Add schedule").click()
    expect(notice(page)).to_have_text("Schedule added.")
    expect(schedules).to_have_count(before + 1)
    hourly = schedules.filter(has_text="every hour")
    expect(hourly).to_have_count(1)
    page.screenshot(path=shots / "edit-schedule-added.png")
    hourly.get_by_role("button", name="Pause").click()
    expect(notice(page)).to_have_text("Schedule paused.")
    expect(hourly.locator(".tag", has_text="inactive")).to_be_visible()
    page.screenshot(path=shots / "edit-schedule-paused.png")
    hourly.get_by_role("button", name="Resume").click()
    expect(notice(page)).to_have_text("Schedule resumed.")
    expect(hourly.locator(".tag", has_text="inactive")).to_have_count(0)
    hourly.get_by_role("button", name="Delete").click()
    expect(notice(page)).to_contain_text("Schedule deleted")
    expect(schedules).to_have_count(before)
    expect(hourly).to_have_count(0)
    page.screenshot(path=shots / "edit-schedule-deleted.png")
    assert asked == ["Delete this schedule and its future runs?"]
    schedules_left = site.prefect.get(f"/deployments/{site.data.deployment_id}")["schedules"]
    assert [s["schedule"].get("interval") for s in schedules_left] == [None] * before
    no_errors(console, REFUSED)


def test_work_pool_create_edit_and_queues(
    site: Site, page: Page, console: list[str], shots: Path
) -> None:
    asked = accept_dialogs(page)
    page.goto(f"{site.url}/work-pools")
    page.locator("summary:has(#new-pool)").click()
    page.fill("#pool-name", "browser-pool")
    page.fill("#pool-type", "process")
    page.fill("#pool-description", "Made by clicking")
    page.screenshot(path=shots / "edit-pool-new.png")
    page.get_by_role("button", name="Create work pool").click()
    expect(page).to_have_url(f"{site.url}/work-pools/browser-pool")
    expect(notice(page)).to_have_text("Work pool browser-pool created.")
    expect(page.locator("h1")).to_have_text("browser-pool")
    expect(row(page, "default")).to_have_count(1)  # a new pool comes with its default queue

    edit = page.locator("details.edit:has(#pool-description)")
    edit.locator("summary").click()
    page.fill("#pool-description", "Edited in Chromium")
    edit.get_by_role("button", name="Save").click()
    expect(notice(page)).to_have_text("Work pool saved.")
    expect(fact(page, "Description")).to_have_text("Edited in Chromium")
    page.screenshot(path=shots / "edit-pool-saved.png")

    title = page.locator(".title-row")
    title.get_by_role("button", name="Pause").click()
    expect(notice(page)).to_contain_text("Work pool paused")
    expect(title.locator(".badge")).to_have_text("paused")
    page.screenshot(path=shots / "edit-pool-paused.png")
    title.get_by_role("button", name="Resume").click()
    expect(notice(page)).to_have_text("Work pool resumed.")
    expect(title.locator(".badge")).not_to_have_text("paused")
    assert site.prefect.get("/work_pools/browser-pool")["is_paused"] is False

    page.locator("summary", has_text="New queue").click()
    page.fill("#nq-name", "fast-lane")
    page.fill("#nq-priority", "1")
    page.get_by_role("button", name="Create queue").click()
    expect(notice(page)).to_have_text("Work queue fast-lane created.")
    fast = row(page, "fast-lane")
    expect(fast).to_have_count(1)
    expect(fast.locator("td").nth(1)).to_have_text("1")
    fast.locator("summary", has_text="Edit").click()
    fast.locator("input[name=priority]").fill("2")
    fast.get_by_role("button", name="Save queue").click()
    expect(notice(page)).to_have_text("Work queue fast-lane saved.")
    expect(fast.locator("td").nth(1)).to_have_text("2")
    fast.scroll_into_view_if_needed()
    page.screenshot(path=shots / "edit-pool-queue-saved.png")

    # The default queue cannot go: the core's refusal is the notice, the queue stays.
    row(page, "default").get_by_role("button", name="Delete").click()
    expect(notice(page)).to_have_class(re.compile("notice-error"))
    expect(notice(page)).to_contain_text("default queue")
    expect(row(page, "default")).to_have_count(1)
    page.screenshot(path=shots / "edit-pool-default-kept.png")
    assert asked == ["Delete queue default?"]
    queues = site.prefect.post("/work_pools/browser-pool/queues/filter")
    priorities = {q["name"]: q["priority"] for q in queues}
    assert sorted(priorities) == ["default", "fast-lane"]
    assert priorities["fast-lane"] == 2
    no_errors(console)


def test_global_concurrency_limit_lifecycle(
    site: Site, page: Page, console: list[str], shots: Path
) -> None:
    asked = accept_dialogs(page)
    page.goto(f"{site.url}/concurrency")
    page.locator("summary", has_text="New global limit").click()
    page.fill("#new-name", "browser-limit")
    page.fill("#new-limit", "4")
    page.get_by_role("button", name="Create limit").click()
    expect(notice(page)).to_have_text("Concurrency limit browser-limit created.")
    limit = row(page, "browser-limit")
    expect(limit.locator("td").nth(2)).to_have_text("4")
    page.screenshot(path=shots / "edit-limit-created.png")

    limit.locator("summary", has_text="Edit").click()
    limit.locator("input[name=limit]").fill("7")
    limit.get_by_role("button", name="Save limit").click()
    expect(notice(page)).to_have_text("Concurrency limit saved.")
    expect(limit.locator("td").nth(2)).to_have_text("7")
    page.screenshot(path=shots / "edit-limit-saved.png")

    limit.get_by_role("button", name="Reset slots").click()
    expect(notice(page)).to_have_text("Concurrency limit reset: no slot is taken.")
    expect(limit.locator("td").nth(1)).to_have_text("0")
    limit.get_by_role("button", name="Delete").click()
    expect(notice(page)).to_have_text("Concurrency limit deleted.")
    expect(limit).to_have_count(0)
    page.screenshot(path=shots / "edit-limit-deleted.png")
    assert asked == [
        "Reset browser-limit: count no slot as taken?",
        "Delete the limit browser-limit?",
    ]
    names = [lim["name"] for lim in site.prefect.post("/v2/concurrency_limits/filter")]
    assert "browser-limit" not in names
    no_errors(console)


def new_run(site: Site, flow_id: str, name: str) -> str:
    """A Running run of `flow_id` made over the API, as a client would."""
    now = dt.datetime.now(dt.UTC).isoformat()
    body = {"flow_id": flow_id, "name": name, "state": {"type": "RUNNING", "timestamp": now}}
    return str(site.prefect.post("/flow_runs/", body)["id"])


def live_requests(page: Page) -> list[str]:
    """The /live/ URLs the page asks from now on."""
    seen: list[str] = []

    def record(request: Request) -> None:
        if "/live/" in request.url:
            seen.append(request.url)

    page.on("request", record)
    return seen


def test_runs_list_is_live(site: Site, page: Page, console: list[str], shots: Path) -> None:
    flow_id = site.prefect.post("/flows/", {"name": "live-list-flow"})["id"]
    first = new_run(site, flow_id, "already-here")
    page.goto(f"{site.url}/runs?flow={flow_id}")
    rows = page.locator("#run-list tbody tr")
    expect(rows).to_have_count(1)
    box = page.locator(f"#run-list input[name=run][value='{first}']")
    box.check()
    page.locator("h1").click()  # leave the region: a region being worked in is not replaced
    asked = live_requests(page)
    new_run(site, flow_id, "arrived-live")
    expect(page.locator("#run-list")).to_contain_text("arrived-live", timeout=6_500)
    expect(rows).to_have_count(2)
    expect(box).to_be_checked()  # the update kept the tick
    expect(page.locator("#run-list .counts")).to_contain_text("2 runs")
    assert asked, "the list changed without a /live/ request"
    page.screenshot(path=shots / "live-runs-arrived.png")
    no_errors(console)


# Headless Chromium shows every tab: neither a second tab brought to the front, nor a
# minimised window, nor CDP's focus emulation or Page.setWebLifecycleState makes a page's
# document.visibilityState "hidden" (tried with Chromium 156; a frozen page runs no script
# at all, which would test Chromium rather than baton.js). So the tab's visibility is
# emulated where the page reads it: the Page Visibility API's two properties answer from a
# flag, and the browser's own event is dispatched when the flag changes.
HIDEABLE = """
(() => {
  let hidden = false;
  Object.defineProperty(Document.prototype, "hidden", { get: () => hidden });
  Object.defineProperty(Document.prototype, "visibilityState", {
    get: () => (hidden ? "hidden" : "visible"),
  });
  window.__setHidden = (value) => {
    hidden = value;
    document.dispatchEvent(new Event("visibilitychange"));
  };
})();
"""


def wait_for(page: Page, seen: list[str], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not seen and time.monotonic() < deadline:
        page.wait_for_timeout(100)


def test_hidden_tab_does_not_poll(site: Site, page: Page, console: list[str], shots: Path) -> None:
    page.add_init_script(HIDEABLE)
    page.goto(f"{site.url}/runs")
    asked = live_requests(page)
    wait_for(page, asked, 8)
    assert asked, "a shown /runs page polls its live region"

    page.evaluate("window.__setHidden(true)")
    assert page.evaluate("document.visibilityState") == "hidden"
    asked.clear()
    page.wait_for_timeout(12_000)  # more than two of the list's 5 s polls
    assert asked == [], asked
    page.screenshot(path=shots / "live-runs-hidden.png")

    page.evaluate("window.__setHidden(false)")
    wait_for(page, asked, 1.5)  # shown again: it asks at once, not after a poll period
    assert asked, "shown again, the page asks at once"
    page.screenshot(path=shots / "live-runs-shown-again.png")
    no_errors(console)
