"""Regenerate the README's screenshots (docs/screenshots/*.png): a real `baton server start`,
data made by the real Prefect client (the browser tests' data), Debian's Chromium at
1280x800. Run by scripts/ui-screenshots."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from playwright.sync_api import Page, expect, sync_playwright

from tests.compat.conftest import Prefect
from tests.support.server import baton_env, baton_server
from tests.ui.conftest import CHROMIUM, VIEWPORT, launch_args
from tests.ui.prefect_data import POOL, Made, make_data

ROOT = Path(__file__).resolve().parents[2]
MAX_BYTES = 150_000


def pages(data: Made) -> dict[str, tuple[str, str]]:
    """name: (path, the element to scroll to the top of the window, if any)."""
    return {
        "dashboard": ("/", ""),
        "runs": ("/runs", ""),
        "run": (f"/runs/{data.completed_id}", "#run-timeline"),  # the timeline and the logs
        "deployment": (f"/deployments/{data.deployment_id}", ""),
        "work-pool": (f"/work-pools/{POOL}", ""),
        "logs": ("/logs?q=rows", ""),
    }


def shoot(page: Page, url: str, top: str, path: Path) -> int:
    page.goto(url)
    if page.locator("time[datetime]").count():
        expect(page.locator("time[data-local]").first).to_be_attached()
    if top:
        page.locator(top).evaluate(
            "el => window.scrollTo(0, (el.closest('.panel') || el).getBoundingClientRect().top"
            " + window.scrollY - 12)"
        )
    page.screenshot(path=path)
    return path.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="baton-shots-") as tmp:
        home = Path(tmp) / "prefect-home"
        home.mkdir()
        with baton_server(baton_env(Path(tmp) / "baton-home")) as server:
            data = make_data(Prefect(server, home))
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=str(CHROMIUM), headless=True, args=launch_args()
                )
                page = browser.new_page(viewport=VIEWPORT)
                for name, (path, top) in pages(data).items():
                    target = args.out / f"{name}.png"
                    size = shoot(page, server.base_url + path, top, target)
                    print(f"{target.relative_to(ROOT)}  {size / 1024:.0f} KB")
                    if size > MAX_BYTES:
                        raise SystemExit(f"{target} is over {MAX_BYTES // 1000} KB")
                browser.close()


if __name__ == "__main__":
    main()
