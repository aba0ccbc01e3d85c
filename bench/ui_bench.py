"""The UI's page figures (issue 7's quality bars) on a seeded database, server and browser.

    .venv/bin/python bench/ui_bench.py --home DIR | --database-url URL [--port P]
        [--warm 5] [--only LABEL-PART] [--no-chromium]

Seed the database first (bench/seed_ui_data.py). This starts `baton server start
--no-services` on it, picks real ids for the detail pages from the database (the run with
the most task runs, a recent ordinary run, the busiest flow, deployment and work pool, the
latest artifact), then for each page measures:
  server: the first GET after the server started ("cold"), then the median and 95th
          percentile of `--warm` GETs, timed by the client over loopback (httpx,
          keep-alive), and the document's bytes as the browser gets them (gzip when the
          server compresses);
  Chromium: Debian's headless Chromium (Playwright with executable_path, as the browser
          tests in tests/ui/conftest.py) loads the page cold `--browser-loads` times, each
          in a fresh browser context (an empty cache), medians: DOMContentLoaded and first
          contentful paint from the Performance API, the number of requests and their
          bytes as transferred (headers and encoded bodies, Playwright's request.sizes());
          then twice more in one context: a revisit, where the static files come from the
          cache (the Resource Timing API's transferSize 0) and only the document is fetched.
The live regions' endpoints (/live/runs, /live/dashboard, a pool's /live/waiting, a run's
live header, timeline and new log lines) are measured on the server only, twice each: in full (no
If-None-Match: read and rendered) and unchanged (with the ETag of the previous answer: the
304 that an open page's polls mostly get).
Prints a markdown table; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import sqlalchemy as sa
from playwright.sync_api import Browser, Page, Request, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from tests.support.postgres import free_port  # noqa: E402
from tests.ui.conftest import CHROMIUM, VIEWPORT, launch_args, watch  # noqa: E402

from baton.settings import DATABASE_URL_VAR, Settings, parse_database_url  # noqa: E402


@dataclass
class Figures:
    path: str
    status: int = 0
    cold_ms: float = 0.0
    warm_ms: list[float] = field(default_factory=list)
    html_bytes: int = 0  # the document as sent (compressed when gzip applies)
    raw_bytes: int = 0  # the document uncompressed
    dcl_ms: float | None = None
    fcp_ms: float | None = None
    requests: int = 0
    transferred: int = 0
    warm_fcp_ms: float | None = None
    warm_requests: int = 0

    @property
    def median_ms(self) -> float:
        return statistics.median(self.warm_ms) if self.warm_ms else float("nan")

    @property
    def p95_ms(self) -> float:
        """The 95th percentile of the warm GETs (nearest rank)."""
        if not self.warm_ms:
            return float("nan")
        ranked = sorted(self.warm_ms)
        return ranked[max(0, math.ceil(0.95 * len(ranked)) - 1)]


# --- the server --------------------------------------------------------------------------


def start_server(port: int, home: Path, database_url: str | None) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "BATON_"))}
    env["BATON_HOME"] = str(home)
    if database_url:
        env[DATABASE_URL_VAR] = database_url
    cmd = [sys.executable, "-m", "baton", "server", "start", "--no-services"]
    cmd += ["--port", str(port), "--log-level", "warning"]
    return subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)


def wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout: float = 120) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with {proc.returncode}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(url, timeout=2).status_code == 200:
                return time.monotonic() - start
        time.sleep(0.05)
    raise SystemExit(f"{url} not healthy after {timeout} s")


# --- ids for the detail pages ------------------------------------------------------------


async def pick_ids(url: sa.URL) -> dict[str, str]:
    from baton.db.engine import create_engine

    engine = create_engine(url)
    queries = {
        "big_run": "SELECT flow_run_id FROM task_run GROUP BY flow_run_id"
        " ORDER BY count(*) DESC LIMIT 1",
        "run": "SELECT id FROM flow_run WHERE state_type = 'COMPLETED'"
        " ORDER BY expected_start_time DESC LIMIT 1",
        "flow": "SELECT flow_id FROM flow_run GROUP BY flow_id ORDER BY count(*) DESC LIMIT 1",
        "deployment": "SELECT deployment_id FROM flow_run WHERE deployment_id IS NOT NULL"
        " GROUP BY deployment_id ORDER BY count(*) DESC LIMIT 1",
        "pool": "SELECT work_pool_name FROM flow_run WHERE work_pool_name IS NOT NULL"
        " GROUP BY work_pool_name ORDER BY count(*) DESC LIMIT 1",
        "artifact": "SELECT id FROM artifact ORDER BY created DESC LIMIT 1",
    }
    found: dict[str, str] = {}
    try:
        async with engine.connect() as conn:
            for name, sql in queries.items():
                value = (await conn.execute(sa.text(sql))).scalar()
                if value is None:
                    continue
                text = str(value)
                if name != "pool" and len(text) == 32:  # SQLite keeps UUIDs as 32 hex digits
                    text = f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
                found[name] = text
    finally:
        await engine.dispose()
    return found


def pages(ids: dict[str, str]) -> list[tuple[str, str]]:
    """(label, path): the issue's pages, then a few heavier variants."""
    listed = [
        ("dashboard", "/"),
        ("runs", "/runs"),
        ("run (most task runs)", f"/runs/{ids.get('big_run')}"),
        ("run (recent)", f"/runs/{ids.get('run')}"),
        ("flows", "/flows"),
        ("flow (busiest)", f"/flows/{ids.get('flow')}"),
        ("deployments", "/deployments"),
        ("deployment (busiest)", f"/deployments/{ids.get('deployment')}"),
        ("work pools", "/work-pools"),
        ("work pool (busiest)", f"/work-pools/{ids.get('pool')}"),
        ("logs", "/logs"),
        ("artifacts", "/artifacts"),
        ("artifact", f"/artifacts/{ids.get('artifact')}"),
        ("variables", "/variables"),
        ("events", "/events"),
        ("concurrency", "/concurrency"),
        ("runs: failed, 7 days", "/runs?state=FAILED&state=CRASHED&range=7d"),
        ("runs: oldest first", "/runs?sort=oldest"),
        ("dashboard: 7 days", "/?window=7d"),
        ("logs: search 'timeout'", "/logs?q=timeout"),
        ("logs: errors", "/logs?level=40"),
        ("run (most task runs): tasks tab", f"/runs/{ids.get('big_run')}?tab=tasks"),
        *live_fragments(ids),
    ]
    return [(label, path) for label, path in listed if "/None" not in path]


# A live fragment's label ends with this when it is asked with the ETag of its last answer
# (the poll of an unchanged region, answered 304); other live labels ask without one.
UNCHANGED = " (304)"


def live_fragments(ids: dict[str, str]) -> list[tuple[str, str]]:
    """The live regions' endpoints, as their pages poll them: each in full (a first poll,
    or one after a change) and unchanged (If-None-Match, a 304)."""
    regions = [
        ("live: runs", "/live/runs"),
        ("live: runs failed 7d", "/live/runs?state=FAILED&state=CRASHED&range=7d"),
        ("live: dashboard", "/live/dashboard"),
        ("live: dashboard 7d", "/live/dashboard?window=7d"),
        ("live: pool waiting", f"/work-pools/{ids.get('pool')}/live/waiting"),
        ("live: run header", f"/runs/{ids.get('run')}/live/header"),
        ("live: big run timeline", f"/runs/{ids.get('big_run')}/live/timeline"),
        # As an open run page polls its logs: the lines after the last one it shows.
        ("live: run logs", f"/runs/{ids.get('run')}/live/logs?level=0&q=&after={CURSOR}"),
    ]
    out = []
    for label, path in regions:
        out += [(label, path), (label + UNCHANGED, path)]
    return out


CURSOR = "{cursor}"  # in a path: the last log row's cursor on the run's page


def resolve_cursor(client: httpx.Client, path: str) -> str:
    """`path` with CURSOR replaced by the cursor of the last log row its run's page shows."""
    if CURSOR not in path:
        return path
    shown = client.get(path.split("/live/")[0]).text
    cursors = re.findall(r'data-cursor="([^"]+)"', shown)
    return path.replace(CURSOR, urllib.parse.quote(cursors[-1]) if cursors else "")


def is_fragment(label: str) -> bool:
    return label.startswith("live: ")


def measure_server(base: str, targets: list[tuple[str, str]], warm: int) -> list[Figures]:
    results = []
    with httpx.Client(base_url=base, timeout=120, headers={"Accept-Encoding": "gzip"}) as client:
        for label, path in targets:
            path = resolve_cursor(client, path)
            fig = Figures(path)
            headers = {}
            if label.endswith(UNCHANGED):
                etag = client.get(path).headers.get("etag")
                headers = {"If-None-Match": etag} if etag else {}
            for i in range(warm + 1):
                begin = time.perf_counter()
                response = client.get(path, headers=headers)
                elapsed = (time.perf_counter() - begin) * 1000
                if i == 0:
                    fig.cold_ms = elapsed
                    fig.status = response.status_code
                    fig.html_bytes = response.num_bytes_downloaded
                    fig.raw_bytes = len(response.content)
                else:
                    fig.warm_ms.append(elapsed)
            results.append(fig)
            print(
                f"  server {fig.median_ms:7.1f} ms (p95 {fig.p95_ms:7.1f})  {label}",
                file=sys.stderr,
                flush=True,
            )
    return results


# --- the browser -------------------------------------------------------------------------


@dataclass
class Load:
    """One page load in Chromium: Performance API timings (ms since navigation start) and
    the requests that went to the network, with their bytes as transferred (headers
    included, bodies as encoded)."""

    fcp: float | None
    dcl: float | None
    requests: int
    transferred: int


TIMINGS_JS = """async () => {
  const deadline = performance.now() + 3000;
  let fcp;
  while (!(fcp = performance.getEntriesByName('first-contentful-paint')[0])
         && performance.now() < deadline) {
    await new Promise(r => setTimeout(r, 20));
  }
  const nav = performance.getEntriesByType('navigation')[0];
  // What came from the cache: a resource (or the document) with nothing transferred.
  const cached = [nav, ...performance.getEntriesByType('resource')]
    .filter(e => e && e.transferSize === 0).map(e => e.name);
  return {
    fcp: fcp ? fcp.startTime : null,
    dcl: nav ? nav.domContentLoadedEventEnd : null,
    cached: cached,
  };
}"""


SETTLE_MS = 800  # a new context's tab, before it loads what is measured


def load_once(page: Page, url: str) -> Load:
    """Navigate, wait for the load event and first paint; the page's timings, and the
    requests (not data: URLs, not answered from the cache) and their transferred bytes."""
    sent: list[Request] = []
    finished: list[Request] = []

    def on_request(request: Request) -> None:
        if not request.url.startswith("data:"):
            sent.append(request)

    def on_finished(request: Request) -> None:
        finished.append(request)

    page.on("request", on_request)
    page.on("requestfinished", on_finished)
    try:
        page.goto(url, wait_until="load")
        timings = page.evaluate(TIMINGS_JS)
        page.wait_for_timeout(100)  # the last requestfinished events
    finally:
        page.remove_listener("request", on_request)
        page.remove_listener("requestfinished", on_finished)
    cached = set(timings["cached"])
    network = [r for r in sent if r.url not in cached]
    transferred = 0
    for request in finished:
        if request in network:
            sizes = request.sizes()
            transferred += sizes["responseHeadersSize"] + sizes["responseBodySize"]
    return Load(timings["fcp"], timings["dcl"], len(network), transferred)


def median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def measure_browser(
    base: str, targets: list[tuple[str, str]], figures: list[Figures], repeat: int
) -> None:
    """Debian's Chromium through Playwright. A cold load is a page in a fresh browser
    context (its own empty cache, no cookies); the revisit loads the page a second time in
    one context, its cache filled by the first."""
    errors: list[str] = []

    def fresh_page(browser: Browser) -> Page:
        """A tab in a new context, on the server's origin already (/api/health: no static
        files) and left to settle, so a load times the page and not the start of the
        context's renderer processes (otherwise 100-150 ms more FCP on a busy 2-core
        machine, which the figures from the former DevTools driver, one long-lived tab
        with its cache disabled, did not include)."""
        page = browser.new_context(viewport=VIEWPORT).new_page()
        page.context.set_default_timeout(30_000)
        watch(page, errors)
        page.goto(base + "/api/health")
        page.wait_for_timeout(SETTLE_MS)
        return page

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=launch_args()
        )
        try:
            fresh_page(browser).context.close()  # the browser itself started and warmed up
            for (label, path), fig in zip(targets, figures, strict=True):
                if is_fragment(label):
                    continue  # a fragment is no page: the browser fetches it from its page
                cold = []
                for _ in range(repeat):
                    page = fresh_page(browser)
                    try:
                        cold.append(load_once(page, base + path))
                    finally:
                        page.context.close()
                fig.dcl_ms = median([load.dcl for load in cold])
                fig.fcp_ms = median([load.fcp for load in cold])
                fig.requests, fig.transferred = cold[-1].requests, cold[-1].transferred
                page = fresh_page(browser)
                try:
                    load_once(page, base + path)  # fills the cache
                    revisit = load_once(page, base + path)
                finally:
                    page.context.close()
                fig.warm_fcp_ms, fig.warm_requests = revisit.fcp, revisit.requests
                print(f"  chromium FCP {fig.fcp_ms} ms  {path}", file=sys.stderr, flush=True)
        finally:
            browser.close()
    if errors:
        print("browser errors:\n  " + "\n  ".join(errors[:20]), file=sys.stderr)


# --- the report --------------------------------------------------------------------------


def ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def table(targets: list[tuple[str, str]], figures: list[Figures], chromium: bool) -> str:
    lines = [
        "| page | status | server median ms | server p95 ms | server cold ms | HTML KB gz (raw) "
        "| Chromium DCL ms | Chromium FCP ms | requests | KB | revisit FCP ms (requests) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for (label, _), f in zip(targets, figures, strict=True):
        browser_cells = (
            f"{ms(f.dcl_ms)} | {ms(f.fcp_ms)} | {f.requests} | {f.transferred / 1024:.1f} "
            f"| {ms(f.warm_fcp_ms)} ({f.warm_requests})"
            if chromium and not is_fragment(label)
            else "- | - | - | - | -"
        )
        lines.append(
            f"| {label} | {f.status} | {f.median_ms:.1f} | {f.p95_ms:.1f} | {f.cold_ms:.1f} "
            f"| {f.html_bytes / 1024:.1f} ({f.raw_bytes / 1024:.0f}) | {browser_cells} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--home", type=Path, help="a Baton home holding a seeded baton.db")
    where.add_argument("--database-url", help="a seeded PostgreSQL (or SQLite) database")
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    parser.add_argument("--warm", type=int, default=5, help="warm GETs per page (median and p95)")
    parser.add_argument(
        "--only", default="", help="only the pages whose label contains this (e.g. 'live')"
    )
    parser.add_argument(
        "--browser-loads", type=int, default=3, help="cold Chromium loads per page (median)"
    )
    parser.add_argument("--no-chromium", action="store_true")
    args = parser.parse_args()

    scratch = None
    if args.home is not None:
        home: Path = args.home
        url = Settings.from_env({"BATON_HOME": str(home)}).db_url
    else:
        scratch = Path(tempfile.mkdtemp(prefix="baton-ui-bench-"))
        home = scratch
        url = parse_database_url(args.database_url)
    ids = asyncio.run(pick_ids(url))
    targets = [(label, path) for label, path in pages(ids) if args.only in label]
    port = args.port or free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start_server(port, home, args.database_url)
    chromium = not args.no_chromium and CHROMIUM.exists()
    try:
        startup = wait_healthy(base + "/api/health", proc)
        figures = measure_server(base, targets, args.warm)
        if chromium:
            measure_browser(base, targets, figures, args.browser_loads)
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    counts = asyncio.run(row_counts(url))
    print(
        f"\n{url.get_backend_name()}: "
        + ", ".join(f"{n:,} {name}" for name, n in counts.items())
        + f"; server healthy {startup:.1f}s after start; {os.cpu_count()} CPUs\n"
    )
    print(table(targets, figures, chromium))


async def row_counts(url: sa.URL) -> dict[str, int]:
    from baton.db.engine import create_engine

    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            counts = {}
            for name in ("flow_run", "task_run", "log"):
                found = await conn.execute(sa.text(f"SELECT count(*) FROM {name}"))
                counts[name] = int(found.scalar_one())
            return counts
    finally:
        await engine.dispose()


if __name__ == "__main__":
    main()
