"""`baton db vacuum`: apply retention now, directly against the configured database."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from baton.cli.direct import on_database
from baton.cli.output import fail, out
from baton.errors import ConfigError
from baton.settings import Settings

if TYPE_CHECKING:
    from baton.db.database import Database

_WHAT = {
    "flow_runs": "terminal flow runs (with their task runs, states, logs and artifacts)",
    "logs": "logs",
    "events": "events",
    "audit": "audit entries",
}


def vacuum(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be deleted; delete nothing.")
    ] = False,
) -> None:
    """Delete what is older than the retention settings (BATON_RETENTION_*_DAYS) now."""
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        fail(str(exc))
    counts = on_database(lambda db: _vacuum(db, settings, dry_run))
    verb = "Would delete" if dry_run else "Deleted"
    days = {
        "flow_runs": settings.retention_flow_runs_days,
        "logs": settings.retention_logs_days,
        "events": settings.retention_events_days,
        "audit": settings.retention_audit_days,
    }
    for kind, count in counts.items():
        age = f"older than {days[kind]:g} days" if days[kind] > 0 else "kept forever"
        out.print(f"{verb} {count} {_WHAT[kind]} ({age})")


async def _vacuum(db: Database, settings: Settings, dry_run: bool) -> dict[str, int]:
    from baton.clock import utcnow
    from baton.core.retention import count_expired, delete_expired
    from baton.services import retention_of

    policy = retention_of(settings)
    if dry_run:
        return await count_expired(db, policy, utcnow())
    return await delete_expired(db, policy, utcnow())
