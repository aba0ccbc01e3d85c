"""Signing in through the real form, in headless Chromium (Playwright), against `baton server
start` with API keys on and a user made by `baton user add`: the dashboard, who is signed
in, signing out."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.support.server import baton_env, baton_server
from tests.ui.conftest import no_errors

PASSWORD = "chromium-signs-in"


def test_sign_in_through_the_form(tmp_path: Path, page: Page, console: list[str]) -> None:
    env = baton_env(tmp_path / "home", BATON_AUTH_MODE="keys")
    made = subprocess.run(
        [sys.executable, "-m", "baton", "user", "add", "grace", "--role", "admin",
         "--password-stdin"],
        env=env, input=PASSWORD + "\n", capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    with baton_server(env) as server:
        page.goto(server.base_url + "/runs")
        assert page.url == f"{server.base_url}/login?next=%2Fruns"
        page.fill("#login-name", "grace")
        page.fill("#login-password", PASSWORD)
        page.click("form[action='/login'] button[type=submit]")
        expect(page).to_have_url(f"{server.base_url}/runs")
        page.goto(server.base_url + "/")
        main = page.locator("body")
        expect(main).to_contain_text("Flow runs by state")
        expect(main).to_contain_text("Signed in as grace")
        expect(page.locator('a[href="/audit"]')).to_have_count(1)
        # The session cookie is out of the page script's reach, but the browser keeps it.
        assert "baton_session" not in page.evaluate("document.cookie")
        assert [c["httpOnly"] for c in page.context.cookies() if c["name"] == "baton_session"] == [
            True
        ]

        page.click("form.who button[type=submit]")
        expect(page).to_have_url(f"{server.base_url}/login")
        expect(main).to_contain_text("Signed out.")
        page.goto(server.base_url + "/")
        expect(page).to_have_url(re.compile(r"/login"))
        no_errors(console)
