"""Fixtures for the browser tests: Debian's headless Chromium driven by Playwright (never a
downloaded browser), a page that records every console error, uncaught exception and
browser-reported error (CSP violations, failed loads), a folder for screenshots, and a real
`baton server start` with data made by the real Prefect client."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, sync_playwright

from tests.compat.conftest import Prefect
from tests.support.server import baton_env, baton_server
from tests.ui.prefect_data import Made, make_data

CHROMIUM = Path("/usr/bin/chromium")
VIEWPORT: ViewportSize = {"width": 1280, "height": 800}


def launch_args() -> list[str]:
    return ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is missing: `make system-deps` installs Debian's chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=launch_args()
        )
        yield browser
        browser.close()


@pytest.fixture
def console() -> list[str]:
    """What the page reported as wrong; `page` fills it."""
    return []


@pytest.fixture
def page(browser: Browser, console: list[str]) -> Iterator[Page]:
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(15_000)
    page = context.new_page()
    watch(page, console)
    yield page
    context.close()


def watch(page: Page, errors: list[str]) -> None:
    page.on(
        "console",
        lambda m: (
            errors.append(f"console: {m.text} ({m.location.get('url', '')})")
            if m.type in ("error", "assert")
            else None
        ),
    )
    page.on("pageerror", lambda e: errors.append(f"exception: {e}"))


def no_errors(console: list[str], *expected: str) -> None:
    """No console error, exception or browser error, but those `expected` (Chromium logs
    every 4xx document as a failed load: a refused form answers 422 on purpose)."""
    errors = [e for e in console if not any(x in e for x in expected)]
    assert errors == [], "\n".join(errors)


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = Path(os.environ.get("BATON_UI_SCREENSHOTS") or tmp_path_factory.mktemp("shots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prefect]:
    """A real `baton server start` (services on) and the real Prefect client pointed at it."""
    home = tmp_path_factory.mktemp("prefect-home")
    with baton_server(baton_env(tmp_path_factory.mktemp("baton-home"))) as server:
        yield Prefect(server, home)


@dataclass
class Site:
    url: str
    prefect: Prefect
    data: Made


@pytest.fixture(scope="module")
def site(prefect_server: Prefect) -> Site:
    return Site(prefect_server.server.base_url, prefect_server, make_data(prefect_server))
