"""The `baton` command line."""

from __future__ import annotations

import typer

from baton.cli import db, server

app = typer.Typer(
    name="baton",
    help="Baton: a self-hosted workflow-orchestration server that speaks the Prefect 3 API.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(server.app, name="server")
app.add_typer(db.app, name="db")


def main() -> None:
    app()
