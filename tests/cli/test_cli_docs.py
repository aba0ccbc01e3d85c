"""docs/cli.md is generated from the commands' help; it must match what they say today."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from baton.cli import app
from baton.cli.docs import render

DOCS = Path(__file__).resolve().parents[2] / "docs" / "cli.md"


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
