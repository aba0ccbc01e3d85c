"""How the CLI talks to people: messages on stderr, failures as one line and exit code 1.

`fail` and `note` print through click; the rich consoles `err` and `out` (tables, markup)
are made on first use, so commands that never draw a table (`baton server start`: the
server process) never load rich's tables of styles and emoji.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, NoReturn

import typer

if TYPE_CHECKING:
    from rich.console import Console

    err: Console
    out: Console


@functools.cache
def _console(stderr: bool) -> Console:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False)


def __getattr__(name: str) -> Console:
    if name in ("err", "out"):
        return _console(stderr=name == "err")
    raise AttributeError(name)


def fail(message: str, code: int = 1) -> NoReturn:
    typer.secho("Error: ", fg="red", bold=True, err=True, nl=False)
    typer.echo(message, err=True)
    raise typer.Exit(code)


def note(message: str) -> None:
    typer.secho(message, dim=True, err=True)


def say(message: str, *, bold: bool = False, warning: bool = False) -> None:
    """A plain line on stderr (bold, or bold red for a warning)."""
    typer.secho(message, bold=bold or warning, fg="red" if warning else None, err=True)
