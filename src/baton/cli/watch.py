"""`--watch`: follow a run to its end, printing its state changes and log lines."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from rich.console import Console
from rich.text import Text

from baton.cli.client import Client, Unreachable
from baton.cli.logs import LATE_WINDOW, LogReader, as_row, log_line
from baton.cli.output import err, note
from baton.cli.render import (
    local_time,
    parse_api_time,
    state_text,
)
from baton.orchestration.states import TERMINAL

POLL_SECONDS = 1.0
# Clients send logs in batches (every 2 s by default): the last lines of a run can arrive
# after its final state, so watching goes on this long for them.
LOG_GRACE_SECONDS = 2.0


class RunWatcher:
    """Prints a run's new states and log lines, one poll at a time, until it finishes."""

    def __init__(self, client: Client, run: dict[str, Any], console: Console) -> None:
        self.client = client
        self.run = run
        self.console = console
        self.states: set[str] = set()
        self.logs = LogReader(client, None)
        self.logs.names[run["id"]] = run["name"]
        self.logs.run_ids = lambda: [run["id"]]
        self.seen_logs: dict[str, dt.datetime] = {}
        # No log of the run predates it (give or take the sender's clock).
        created = parse_api_time(run.get("created")) or dt.datetime.now(dt.UTC)
        self.floor = created - LATE_WINDOW

    def watch(self) -> dict[str, Any]:
        """Poll until the run is in a terminal state; returns it as it finished."""
        started = time.monotonic()
        lost = False
        with err.status("") as spinner:
            while True:
                try:
                    self.poll()
                except Unreachable as exc:
                    if not lost:
                        note(f"{exc} Retrying…")
                    lost = True
                else:
                    if lost:
                        note("Reconnected.")
                    lost = False
                    if self.run.get("state_type") in TERMINAL:
                        break
                label, style = state_text(self.run.get("state_type"), self.run.get("state_name"))
                elapsed = round(time.monotonic() - started)
                spinner.update(
                    Text.assemble(f"{self.run['name']}: ", (label, style), f" ({elapsed}s)")
                )
                time.sleep(POLL_SECONDS)
            spinner.update(f"{self.run['name']}: waiting for its last logs…")
            time.sleep(LOG_GRACE_SECONDS)
            self.print_new_logs()
        return self.run

    def poll(self) -> None:
        """Read the run; print its states and log lines not shown yet, oldest first."""
        self.run = self.client.get(
            f"flow_runs/{self.run['id']}",
            action="read flow runs",
            missing=f"Flow run {self.run['id']} was deleted.",
        )
        lines = self.new_log_lines()
        if (self.run.get("state") or {}).get("id") not in self.states:
            lines += self.new_state_lines()
        lines.sort(key=lambda line: line[0])
        for _, text in lines:
            self.console.print(text, soft_wrap=True)

    def print_new_logs(self) -> None:
        for _, text in self.new_log_lines():
            self.console.print(text, soft_wrap=True)

    def new_state_lines(self) -> list[tuple[dt.datetime, Text]]:
        history = self.client.get(
            f"flow_run_states/?flow_run_id={self.run['id']}", action="read flow runs"
        )
        lines = []
        for state in history:
            if state["id"] in self.states:
                continue
            self.states.add(state["id"])
            label, style = state_text(state.get("type"), state.get("name"))
            line = Text()
            line.append(local_time(state.get("timestamp")), style="dim")
            line.append(f" {'STATE':<8} ", style="bold")
            line.append(str(self.run["name"]), style="cyan")
            line.append(" | ", style="dim")
            line.append(label, style=style)
            if state.get("message"):
                line.append(f"  {state['message']}")
            lines.append((self._moment(state), line))
        return lines

    def new_log_lines(self) -> list[tuple[dt.datetime, Text]]:
        newest = max(self.seen_logs.values(), default=self.floor)
        records = self.logs.newer(max(self.floor, newest - LATE_WINDOW))
        new = [r for r in records if r["id"] not in self.seen_logs]
        names = self.logs.run_names(new)
        lines = []
        for record in new:
            moment = self.seen_logs[record["id"]] = self._moment(record)
            lines.append((moment, log_line(as_row(record, names))))
        return lines

    def _moment(self, record: dict[str, Any]) -> dt.datetime:
        moment = parse_api_time(record.get("timestamp")) or self.floor
        return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
