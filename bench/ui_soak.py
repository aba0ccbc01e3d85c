"""Pages left open in the browser (issue 7: "a page left open for an hour keeps a flat memory
and near-zero CPU in the browser").

    .venv/bin/python bench/ui_soak.py [--minutes 60] [--rate 10] [--subflow-every 30]

Starts `baton server start` on a fresh SQLite file and, with the real Prefect client
(.venv-prefect), a flow run that stays running the whole time (tests/ui/flows/live.py):
`--rate` log lines a second, a task run every 5 s and a subflow run every
`--subflow-every` s. Debian's headless Chromium (Playwright, executable_path) opens that
run's detail page and the runs list, each in its own window, and leaves them open. Every
minute it reads each page's DevTools metrics (Performance.getMetrics): the JS heap as it is
and after a forced garbage collection, DOM nodes and event listeners (after the
collection), and the renderer's main-thread busy time (TaskDuration, which includes
ScriptDuration, LayoutDuration and RecalcStyleDuration, shown apart, and paint) over the
minute as a percentage of one core. Prints one table per page; asserts nothing.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Browser, CDPSession, Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.compat.conftest import Prefect  # noqa: E402
from tests.support.server import baton_env, baton_server  # noqa: E402
from tests.ui.conftest import CHROMIUM, VIEWPORT, launch_args, watch  # noqa: E402
from tests.ui.prefect_data import live_flow, run_named  # noqa: E402

MB = 1024 * 1024


@dataclass
class Sample:
    minute: float
    heap_mb: float
    retained_mb: float  # after a forced garbage collection
    nodes: int
    listeners: int
    cpu_percent: float  # renderer main-thread busy time over the interval, of one core
    script_percent: float
    layout_percent: float  # layout and style recalculation
    rows: int  # log rows on the page (the run page's live log view)


@dataclass
class Watched:
    name: str
    page: Page
    cdp: CDPSession
    errors: list[str] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)
    _last: tuple[float, float, float, float] | None = None  # wall, task, script, layout s

    def sample(self, minute: float) -> Sample:
        plain = self._metrics()
        self.cdp.send("HeapProfiler.collectGarbage")
        collected = self._metrics()
        wall = time.monotonic()
        task, script = plain["TaskDuration"], plain["ScriptDuration"]
        layout = plain["LayoutDuration"] + plain["RecalcStyleDuration"]
        cpu = scripting = laying_out = 0.0
        if self._last is not None:
            span = wall - self._last[0]
            cpu = 100 * (task - self._last[1]) / span
            scripting = 100 * (script - self._last[2]) / span
            laying_out = 100 * (layout - self._last[3]) / span
        self._last = (wall, task, script, layout)
        rows = int(self.page.evaluate("document.querySelectorAll('tr[data-cursor]').length"))
        taken = Sample(
            minute,
            plain["JSHeapUsedSize"] / MB,
            collected["JSHeapUsedSize"] / MB,
            int(collected["Nodes"]),
            int(collected["JSEventListeners"]),
            cpu,
            scripting,
            laying_out,
            rows,
        )
        self.samples.append(taken)
        return taken

    def _metrics(self) -> dict[str, float]:
        got = self.cdp.send("Performance.getMetrics")
        return {m["name"]: float(m["value"]) for m in got["metrics"]}


def open_page(browser: Browser, name: str, url: str) -> Watched:
    """A page in a window of its own (each one visible, so its live regions keep polling)."""
    page = browser.new_context(viewport=VIEWPORT).new_page()
    errors: list[str] = []
    watch(page, errors)
    cdp = page.context.new_cdp_session(page)
    cdp.send("Performance.enable")
    page.goto(url)
    return Watched(name, page, cdp, errors)


def table(watched: Watched) -> str:
    lines = [
        f"{watched.name}",
        "| minute | heap MB | after GC MB | DOM nodes | listeners | CPU % | script % | layout % |"
        " log rows |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in watched.samples:
        cpu, script, layout = (
            (f"{s.cpu_percent:.2f}", f"{s.script_percent:.2f}", f"{s.layout_percent:.2f}")
            if s.minute
            else ("—", "—", "—")
        )
        lines.append(
            f"| {s.minute:.0f} | {s.heap_mb:.1f} | {s.retained_mb:.1f} | {s.nodes:,} |"
            f" {s.listeners:,} | {cpu} | {script} | {layout} | {s.rows:,} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=int, default=60)
    parser.add_argument("--rate", type=int, default=10, help="log lines a second")
    parser.add_argument("--subflow-every", type=float, default=30, help="seconds")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="baton-soak-") as tmp:
        home = Path(tmp) / "prefect-home"
        home.mkdir()
        with baton_server(baton_env(Path(tmp) / "baton-home")) as server:
            prefect = Prefect(server, home)
            flow_args = ["--rate", str(args.rate), "--seconds", str(args.minutes * 60 + 120)]
            flow_args += ["--task-every", "5", "--subflow-every", str(args.subflow_every)]
            with live_flow(prefect, "soak-run", *flow_args), sync_playwright() as playwright:
                run = run_named(prefect, "soak-run")
                browser = playwright.chromium.launch(
                    executable_path=str(CHROMIUM), headless=True, args=launch_args()
                )
                base = server.base_url
                pages = [
                    open_page(browser, "Run detail (live logs, header, timeline)",
                              f"{base}/runs/{run['id']}"),
                    open_page(browser, "Runs list", f"{base}/runs"),
                ]  # fmt: skip
                for w in pages:
                    state = w.page.evaluate("document.visibilityState")
                    print(f"{w.name}: {w.page.url} ({state})", flush=True)
                start = time.monotonic()
                for minute in range(args.minutes + 1):
                    time.sleep(max(0.0, start + 60 * minute - time.monotonic()))
                    for w in pages:
                        s = w.sample(minute)
                        print(
                            f"  min {minute:3d}  {w.name[:10]:10s}  heap {s.heap_mb:6.1f} MB"
                            f"  after GC {s.retained_mb:6.1f} MB  nodes {s.nodes:7,}"
                            f"  CPU {s.cpu_percent:5.2f} %  rows {s.rows:,}",
                            flush=True,
                        )
                browser.close()
    print()
    for w in pages:
        print(table(w))
        print(f"console errors: {len(w.errors)}", *w.errors[:5], sep="\n  ")
        print()


if __name__ == "__main__":
    main()
