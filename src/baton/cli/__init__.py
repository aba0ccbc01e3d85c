"""The `baton` command line.

Each command group is imported only when it is the one asked for (`baton server start`
loads the server and none of the client-side commands, which keeps the server process
small); `baton --help` and the docs load them all.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from importlib import import_module
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    app: typer.Typer


def _group(module: str, attr: str = "app") -> Callable[[typer.Typer, str], None]:
    def add(app: typer.Typer, name: str) -> None:
        app.add_typer(getattr(import_module(f"baton.cli.{module}"), attr), name=name)

    return add


def _command(module: str, function: str) -> Callable[[typer.Typer, str], None]:
    def add(app: typer.Typer, name: str) -> None:
        app.command(name)(getattr(import_module(f"baton.cli.{module}"), function))

    return add


# In the order `baton --help` lists them.
COMMANDS: dict[str, Callable[[typer.Typer, str], None]] = {
    "server": _group("server"),
    "db": _group("db"),
    # Access control, on the database directly (like `db`).
    "api-key": _group("access", "keys"),
    "user": _group("access", "users"),
    "audit": _group("access", "audit"),
    # Commands that talk to a running server over HTTP (PREFECT_API_URL).
    "deployment": _group("deployments"),
    "flow-run": _group("flow_runs"),
    "work-pool": _group("work_pools", "pools"),
    "worker": _group("work_pools", "workers"),
    "logs": _command("logs", "show_logs"),
    "version": _command("version", "show_version"),
}


def build(only: str | None = None) -> typer.Typer:
    """The command line with every command, or with only the one named `only`."""
    app = typer.Typer(
        name="baton",
        help="Baton: a self-hosted workflow-orchestration server that speaks the Prefect 3 API.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
    )
    # A callback keeps `baton <command>` a group even when only one command is loaded.
    app.callback()(_no_options)
    for name, add in COMMANDS.items():
        if only is None or name == only:
            add(app, name)
    return app


def _no_options() -> None:
    return None


def __getattr__(name: str) -> typer.Typer:
    if name == "app":
        return build()
    raise AttributeError(name)


def main() -> None:
    command = next((arg for arg in sys.argv[1:] if not arg.startswith("-")), None)
    build(command if command in COMMANDS else None)()
