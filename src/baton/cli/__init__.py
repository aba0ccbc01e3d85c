"""The `baton` command line."""

from __future__ import annotations

import typer

from baton.cli import db, flow_runs, logs, server, version

app = typer.Typer(
    name="baton",
    help="Baton: a self-hosted workflow-orchestration server that speaks the Prefect 3 API.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(server.app, name="server")
app.add_typer(db.app, name="db")
# Commands that talk to a running server over HTTP (PREFECT_API_URL).
app.add_typer(flow_runs.app, name="flow-run")
app.command("logs")(logs.show_logs)
app.command("version")(version.show_version)


def main() -> None:
    app()
