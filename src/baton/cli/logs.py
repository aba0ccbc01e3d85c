"""`baton logs`: recent log lines across runs, oldest first, optionally followed live.

The newest N records are fetched newest-first and printed reversed, so the last line on
screen is the latest. `--follow` then polls once a second. Clients send logs in batches
(every two seconds by default), so a record can arrive after newer ones were printed;
each poll therefore looks back LATE_WINDOW before the newest timestamp seen and skips the
ids already shown, rather than asking only for what is strictly newer.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable
from typing import Annotated, Any

import typer
from rich.text import Text

from baton.cli.client import Client, Unreachable, connect
from baton.cli.flow_runs import find_flow_run, flow_by_name
from baton.cli.output import note, out
from baton.cli.parsing import since_option
from baton.cli.render import (
    api_time,
    local_time,
    parse_api_time,
    print_json,
    print_json_line,
)
from baton.schemas.logs import MAX_LIMIT

# The keys of each object `logs --json` prints, in this order.
LOG_KEYS = (
    "id",
    "timestamp",
    "level",
    "level_name",
    "flow_run_id",
    "flow_run_name",
    "task_run_id",
    "logger",
    "message",
)
LEVELS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "WARN": 30, "ERROR": 40, "CRITICAL": 50}
_LEVEL_NAMES = {10: "DEBUG", 20: "INFO", 30: "WARNING", 40: "ERROR", 50: "CRITICAL"}
_LEVEL_STYLES = {"DEBUG": "dim", "WARNING": "yellow", "ERROR": "red", "CRITICAL": "bold red"}

POLL_SECONDS = 1.0
LATE_WINDOW = dt.timedelta(seconds=15)
# `--flow` reads the logs of that flow's most recent runs, up to this many.
RUNS_PER_FLOW = 1000


def parse_level(value: str | None) -> int | None:
    if value is None:
        return None
    if value.strip().isdigit():
        return int(value)
    try:
        return LEVELS[value.strip().upper()]
    except KeyError:
        raise typer.BadParameter(
            f"{value!r} is not a level: use DEBUG, INFO, WARNING, ERROR, CRITICAL "
            "or a number (0 and up)"
        ) from None


def show_logs(
    flow_run: Annotated[
        str | None,
        typer.Option(metavar="ID_OR_NAME", help="Only this flow run's logs.", show_default=False),
    ] = None,
    flow: Annotated[
        str | None,
        typer.Option(
            metavar="NAME",
            help=f"Only the logs of this flow's runs (its {RUNS_PER_FLOW} most recent).",
            show_default=False,
        ),
    ] = None,
    level: Annotated[
        int | None,
        typer.Option(
            metavar="LEVEL",
            parser=parse_level,
            help="Only this level and above: DEBUG, INFO, WARNING, ERROR, CRITICAL "
            "(any case) or a number.",
            show_default=False,
        ),
    ] = None,
    since: Annotated[
        dt.datetime | None,
        typer.Option(
            metavar="WHEN",
            parser=since_option,
            help="Only logs from this point on: a span back from now (30m, 1h, 2d, 1w) "
            "or an ISO 8601 time (local time unless it has an offset).",
            show_default=False,
        ),
    ] = None,
    limit: Annotated[
        int,
        typer.Option(
            metavar="N",
            min=1,
            max=MAX_LIMIT,
            help="Show at most this many (the newest, oldest first).",
        ),
    ] = 100,
    follow: Annotated[
        bool,
        typer.Option("--follow", "-f", help="Keep printing new logs as they arrive, until Ctrl-C."),
    ] = False,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print a JSON array of objects with the keys "
            f"{', '.join(LOG_KEYS)}; with --follow, one object per line instead.",
        ),
    ] = False,
) -> None:
    """Show recent logs of all flow and task runs, newest last."""
    if flow_run is not None and flow is not None:
        raise typer.BadParameter("pass --flow-run or --flow, not both", param_hint="--flow")
    try:
        with connect() as client:
            reader = LogReader(client, level)
            if flow_run is not None:
                run = find_flow_run(client, flow_run)
                reader.names[run["id"]] = run.get("name") or run["id"]
                reader.run_ids = lambda: [run["id"]]
            elif flow is not None:
                flow_id = flow_by_name(client, flow)["id"]
                reader.run_ids = lambda: runs_of_flow(client, flow_id)
            records = reader.latest(limit, since)
            if as_json and not follow:
                names = reader.run_names(records)
                print_json([as_row(record, names) for record in records])
            else:
                print_records(reader, records, as_json)
            if follow:
                reader.follow(records, since, lambda new: print_records(reader, new, as_json))
    except KeyboardInterrupt:
        raise typer.Exit(0) from None


class LogReader:
    """Log queries sharing one filter, and the flow-run names the lines show."""

    def __init__(self, client: Client, level: int | None) -> None:
        self.client = client
        self.level = level
        self.run_ids: Callable[[], list[str]] | None = None
        self.names: dict[str, str] = {}

    def latest(self, limit: int, since: dt.datetime | None) -> list[dict[str, Any]]:
        """The newest `limit` records (after `since`), oldest first."""
        query = self._query(since)
        if query is None:
            return []
        body = {"logs": query, "sort": "TIMESTAMP_DESC", "limit": limit, "offset": 0}
        records: list[dict[str, Any]] = self.client.post("logs/filter", body, action="read logs")
        records.reverse()
        return records

    def newer(self, after: dt.datetime) -> list[dict[str, Any]]:
        """Every record from `after` on, oldest first, page by page."""
        query = self._query(after)
        if query is None:
            return []
        records: list[dict[str, Any]] = []
        while True:
            body = {"logs": query, "sort": "TIMESTAMP_ASC", "limit": MAX_LIMIT}
            page = self.client.post(
                "logs/filter", {**body, "offset": len(records)}, action="read logs"
            )
            records.extend(page)
            if len(page) < MAX_LIMIT:
                return records

    def follow(
        self,
        shown: list[dict[str, Any]],
        since: dt.datetime | None,
        emit: Callable[[list[dict[str, Any]]], None],
    ) -> None:
        """Poll for new records until interrupted; a lost server is waited for, not fatal."""
        seen = {r["id"]: _moment(r) for r in shown}
        newest = max(seen.values(), default=dt.datetime.now(dt.UTC))
        # Records older than the oldest one shown were left out by --limit, not missed.
        floors = [moment for moment in (since, min(seen.values(), default=None)) if moment]
        lost = False
        while True:
            time.sleep(POLL_SECONDS)
            try:
                records = self.newer(max([newest - LATE_WINDOW, *floors]))
                new = [r for r in records if r["id"] not in seen]
                emit(new)
            except Unreachable as exc:
                if not lost:
                    note(f"{exc} Retrying…")
                lost = True
                continue
            if lost:
                note("Reconnected.")
                lost = False
            for record in new:
                seen[record["id"]] = _moment(record)
            newest = max(seen.values(), default=newest)
            # Forget ids that can no longer come back in a poll's window.
            horizon = newest - LATE_WINDOW
            seen = {key: moment for key, moment in seen.items() if moment >= horizon}

    def run_names(self, records: Iterable[dict[str, Any]]) -> dict[str, str]:
        """Flow-run id -> name for these records, fetching only the names not known yet."""
        wanted = {r["flow_run_id"] for r in records if r.get("flow_run_id")} - self.names.keys()
        if wanted:
            runs = self.client.post(
                "flow_runs/filter",
                {"flow_runs": {"id": {"any_": sorted(wanted)}}, "limit": len(wanted)},
                action="read flow runs",
            )
            self.names.update({run["id"]: run["name"] for run in runs})
            # Deleted runs: remember their short id so they are not asked for again.
            self.names.update({key: key[:8] for key in wanted - self.names.keys()})
        return self.names

    def _query(self, after: dt.datetime | None) -> dict[str, Any] | None:
        """The log filter, or None when it cannot match anything (a flow without runs)."""
        query: dict[str, Any] = {}
        if self.level is not None:
            query["level"] = {"ge_": self.level}
        if after is not None:
            query["timestamp"] = {"after_": api_time(after)}
        if self.run_ids is not None:
            ids = self.run_ids()
            if not ids:
                return None
            query["flow_run_id"] = {"any_": ids}
        return query


def runs_of_flow(client: Client, flow_id: str) -> list[str]:
    runs = client.post(
        "flow_runs/filter",
        {
            "flows": {"id": {"any_": [flow_id]}},
            "sort": "EXPECTED_START_TIME_DESC",
            "limit": RUNS_PER_FLOW,
        },
        action="list flow runs",
    )
    return [run["id"] for run in runs]


def as_row(record: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    run_id = record.get("flow_run_id")
    return {
        "id": record.get("id"),
        "timestamp": record.get("timestamp"),
        "level": record.get("level"),
        "level_name": level_name(record.get("level")),
        "flow_run_id": run_id,
        "flow_run_name": names.get(run_id) if run_id else None,
        "task_run_id": record.get("task_run_id"),
        "logger": record.get("name"),
        "message": record.get("message"),
    }


def print_records(reader: LogReader, records: list[dict[str, Any]], as_json: bool) -> None:
    """One line per record (one JSON object per line with `as_json`)."""
    names = reader.run_names(records)
    for record in records:
        row = as_row(record, names)
        if as_json:
            print_json_line(row)
        else:
            out.print(log_line(row), soft_wrap=True)


def log_line(row: dict[str, Any]) -> Text:
    """`2026-11-27 05:10:01 INFO     proud-albatross | message`."""
    name = str(row["level_name"])
    style = _LEVEL_STYLES.get(name, "")
    line = Text()
    line.append(local_time(row["timestamp"]), style="dim")
    line.append(f" {name:<8} ", style=style or "bold")
    line.append(str(row["flow_run_name"] or "-"), style="cyan")
    line.append(" | ", style="dim")
    line.append(str(row["message"]), style=style if name in ("ERROR", "CRITICAL") else "")
    return line


def level_name(level: Any) -> str:
    if isinstance(level, int):
        return _LEVEL_NAMES.get(level, f"LEVEL{level}")
    return str(level)


def _moment(record: dict[str, Any]) -> dt.datetime:
    return parse_api_time(record.get("timestamp")) or dt.datetime.now(dt.UTC)
