"""docs/cli.md and docs/settings.md are generated from the commands' help and the settings'
declarations; they must match what those say today."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from baton.cli import app
from baton.cli.docs import render, render_settings
from baton.settings import declarations

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "cli.md"
SETTINGS = ROOT / "docs" / "settings.md"


def test_docs_match_the_commands() -> None:
    assert DOCS.read_text() == render(), "docs/cli.md is stale: run scripts/gen-cli-docs"


def test_every_command_has_a_section() -> None:
    def paths(command: Any, prefix: str) -> list[str]:
        found = [prefix]
        for name, sub in getattr(command, "commands", {}).items():
            found += paths(sub, f"{prefix} {name}")
        return found

    docs = DOCS.read_text()
    commands = paths(typer.main.get_command(app), "baton")[1:]
    assert {"baton server start", "baton db upgrade", "baton flow-run ls", "baton logs"} <= set(
        commands
    )
    for path in commands:
        assert f"## `{path}`" in docs


def test_settings_docs_match_the_declarations() -> None:
    assert SETTINGS.read_text() == render_settings(), (
        "docs/settings.md is stale: run scripts/gen-cli-docs"
    )


def test_every_variable_is_documented_and_linked_from_the_readme() -> None:
    variables = [d.env for d in declarations() if d.env]
    assert {"BATON_HOME", "PREFECT_SERVER_DATABASE_CONNECTION_URL", "BATON_FAST_PATHS"} <= set(
        variables
    )
    docs = SETTINGS.read_text()
    for name in variables:
        assert f"`{name}`" in docs
    assert "docs/settings.md" in (ROOT / "README.md").read_text()
