"""Signing in through the real form, in headless Chromium, against `baton server start` with
API keys on and a user made by `baton user add`: the dashboard, who is signed in, signing
out."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.server import baton_env, baton_server
from tests.ui.cdp import CHROMIUM, chromium
from tests.ui.test_browser import no_errors

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="/usr/bin/chromium is missing: `make system-deps` installs Debian's chromium",
)
PASSWORD = "chromium-signs-in"


async def test_sign_in_through_the_form(tmp_path: Path) -> None:
    env = baton_env(tmp_path / "home", BATON_AUTH_MODE="keys")
    made = subprocess.run(
        [sys.executable, "-m", "baton", "user", "add", "grace", "--role", "admin",
         "--password-stdin"],
        env=env, input=PASSWORD + "\n", capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    with baton_server(env) as server:
        async with chromium() as page:
            await page.goto(server.base_url + "/runs")
            assert await page.eval("location.pathname") == "/login"
            assert await page.eval("location.search") == "?next=%2Fruns"
            await page.eval(
                "document.querySelector('#login-name').value = 'grace';"
                f"document.querySelector('#login-password').value = '{PASSWORD}';"
            )
            loaded = page.expect("Page.loadEventFired")
            await page.click("form[action='/login'] button[type=submit]")
            await asyncio.wait_for(loaded, 15)
            assert await page.eval("location.pathname") == "/runs"
            await page.goto(server.base_url + "/")
            text = await page.text()
            assert "Flow runs by state" in text
            assert "Signed in as grace" in text
            assert await page.eval("document.querySelector('a[href=\"/audit\"]') !== null")
            # The session cookie is out of the page script's reach.
            assert "baton_session" not in await page.eval("document.cookie")

            loaded = page.expect("Page.loadEventFired")
            await page.click("form.who button[type=submit]")
            await asyncio.wait_for(loaded, 15)
            assert await page.eval("location.pathname") == "/login"
            assert "Signed out." in await page.text()
            await page.goto(server.base_url + "/")
            assert await page.eval("location.pathname") == "/login"
            no_errors(page)
