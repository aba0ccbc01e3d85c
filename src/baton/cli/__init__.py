"""The `baton` command line."""

from __future__ import annotations

import typer

from baton.cli import access, db, deployments, flow_runs, logs, server, vacuum, version, work_pools

app = typer.Typer(
    name="baton",
    help="Baton: a self-hosted workflow-orchestration server that speaks the Prefect 3 API.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(server.app, name="server")
db.app.command("vacuum")(vacuum.vacuum)
app.add_typer(db.app, name="db")
# Access control, on the database directly (like `db`).
app.add_typer(access.keys, name="api-key")
app.add_typer(access.users, name="user")
app.add_typer(access.audit, name="audit")
# Commands that talk to a running server over HTTP (PREFECT_API_URL).
app.add_typer(deployments.app, name="deployment")
app.add_typer(flow_runs.app, name="flow-run")
app.add_typer(work_pools.pools, name="work-pool")
app.add_typer(work_pools.workers, name="worker")
app.command("logs")(logs.show_logs)
app.command("version")(version.show_version)


def main() -> None:
    app()
