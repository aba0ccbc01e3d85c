"""How the CLI talks to people: messages on stderr, failures as one line and exit code 1."""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console
from rich.text import Text

err = Console(stderr=True, highlight=False)
out = Console(highlight=False)


def fail(message: str, code: int = 1) -> NoReturn:
    err.print(Text.assemble(("Error: ", "bold red"), message))
    raise typer.Exit(code)


def note(message: str) -> None:
    err.print(Text(message, style="dim"))
