"""Build the UI's scale data set (issue 7) straight into Baton's tables, fast.

    .venv/bin/python bench/seed_ui_data.py --home DIR | --database-url URL
        [--runs 100000] [--task-runs 1000000] [--logs 5000000] [--flows 50]
        [--deployments 200] [--events 50000] [--seed 7] [--analyze]

What it makes, relative to now: flows; deployments (about 60% with an interval, cron or
rrule schedule, a few paused, most recently polled); three work pools with queues and
workers; flow runs over the last 30 days, mostly Completed, some Failed / Crashed /
Cancelled, a few Running / Pending / Late, and upcoming Scheduled runs over the next week,
with their full state history; about 1% of runs are subflows of a task of another run;
task runs (about `--task-runs / --runs` per started run, 0.1% of runs with hundreds) with
their current state; logs (levels 10-40, lifecycle lines like Prefect's plus application
lines, tracebacks in failed runs); flow-run state events over the last week; artifacts
(markdown, table, link) with their key collections; variables; concurrency limits.

Values are written as the app stores them (see baton/db/types.py): on SQLite, UUIDs as
32-hex text, timestamps as 'YYYY-MM-DD HH:MM:SS.ffffff' UTC text, JSON as text; state
details carry every key (baton.orchestration.states.full_details). The schema is made
first by Baton's migrations; the database must hold no flows yet.

Speed: rows are made in chunks of 500 runs by forked worker processes (--workers, one per
CPU by default; each chunk has its own random stream, so the data does not depend on the
worker count) while the main process writes. SQLite: one connection, WAL,
synchronous=OFF, executemany of large batches in few transactions. PostgreSQL: COPY
(asyncpg's copy_to_table) of CSV that the workers already encoded: handing UUID and
datetime objects to copy_records_to_table meant pickling them between processes, which
made the load about twice as slow. On both, the secondary indexes of the big tables are
dropped for the load and rebuilt after (the same DDL, read back from the database), which
is much faster than maintaining them row by row. PostgreSQL ends with
VACUUM ANALYZE (what autovacuum would soon do); SQLite gets ANALYZE only with --analyze,
since a real Baton database is never analysed by the app.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import csv
import datetime as dt
import io
import itertools
import math
import multiprocessing
import os
import pickle
import random
import sqlite3
import sys
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from baton.core.flow_run_events import state_change_event  # noqa: E402
from baton.core.names import ADJECTIVES, ANIMALS  # noqa: E402
from baton.core.task_runs import POLICY_DEFAULTS as TASK_POLICY  # noqa: E402
from baton.db import tables as t  # noqa: E402
from baton.orchestration.schedules import parse_schedule  # noqa: E402
from baton.orchestration.states import full_details  # noqa: E402
from baton.settings import DATABASE_URL_VAR, Settings, parse_database_url  # noqa: E402

Row = tuple[Any, ...]
Chunk = list[tuple[str, Any]]  # (table, its rows: a list of tuples, or Encoded)

SECOND = 1_000_000  # timestamps are integer microseconds since the epoch here
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR
MASK62 = (1 << 62) - 1
EPOCH = dt.datetime(1970, 1, 1)
EPOCH_UTC = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
RUNS_PER_CHUNK = 500
BIG_TASKS, BIG_LOGS = 250, 6000  # one run in a thousand is big

# The tables whose secondary indexes are dropped during the load and rebuilt after.
BIG_TABLES = (
    "flow_run",
    "flow_run_state",
    "task_run",
    "task_run_state",
    "log",
    "event",
    "event_resource",
)

FLOW_POLICY: dict[str, Any] = {
    "max_retries": 0,
    "retry_delay_seconds": 0.0,
    "retries": None,
    "retry_delay": None,
    "pause_keys": [],
    "resuming": False,
    "retry_type": None,
}

# (state type, state name, share of runs). Late and upcoming runs are SCHEDULED.
KINDS = (
    ("COMPLETED", "Completed", 0.862),
    ("FAILED", "Failed", 0.07),
    ("CRASHED", "Crashed", 0.015),
    ("CANCELLED", "Cancelled", 0.02),
    ("RUNNING", "Running", 0.002),
    ("PENDING", "Pending", 0.001),
    ("SCHEDULED", "Scheduled", 0.027),
    ("SCHEDULED", "Late", 0.003),
)
TERMINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}

# Each table's columns, in the order the generator makes its tuples.
COLUMNS: dict[str, tuple[str, ...]] = {
    "flow": ("id", "created", "updated", "name", "tags", "labels"),
    "work_pool": (
        "id", "created", "updated", "name", "description", "type", "base_job_template",
        "is_paused", "concurrency_limit", "default_queue_id",
    ),
    "work_queue": (
        "id", "created", "updated", "work_pool_id", "name", "description", "is_paused",
        "concurrency_limit", "priority", "last_polled",
    ),
    "worker": (
        "id", "created", "updated", "work_pool_id", "name", "last_heartbeat_time",
        "heartbeat_interval_seconds",
    ),
    "deployment": (
        "id", "created", "updated", "name", "flow_id", "version", "description", "paused",
        "tags", "labels", "parameters", "parameter_openapi_schema", "enforce_parameter_schema",
        "job_variables", "path", "entrypoint", "work_queue_name", "work_queue_id",
        "concurrency_limit", "last_polled",
    ),
    "deployment_schedule": (
        "id", "created", "updated", "deployment_id", "schedule", "active", "parameters",
    ),
    "concurrency_limit": (
        "id", "created", "updated", "name", "limit", "active", "active_slots", "denied_slots",
        "slot_decay_per_second", "avg_slot_occupancy_seconds",
    ),
    "variable": ("id", "created", "updated", "name", "value", "tags"),
    "flow_run": (
        "id", "created", "updated", "name", "flow_id", "deployment_id", "deployment_version",
        "work_queue_id", "work_queue_name", "work_pool_id", "work_pool_name", "flow_version",
        "parameters", "idempotency_key", "context", "empirical_policy", "tags", "labels",
        "parent_task_run_id", "state_id", "state_type", "state_name", "state_timestamp",
        "state_message", "state_details", "state_data", "run_count", "expected_start_time",
        "next_scheduled_start_time", "start_time", "end_time", "total_run_time",
        "auto_scheduled", "job_variables",
    ),
    "flow_run_state": (
        "id", "created", "flow_run_id", "type", "name", "timestamp", "message",
        "state_details", "data",
    ),
    "task_run": (
        "id", "created", "updated", "name", "flow_run_id", "task_key", "dynamic_key",
        "empirical_policy", "tags", "labels", "task_inputs", "state_id", "state_type",
        "state_name", "state_timestamp", "state_message", "state_details", "state_data",
        "run_count", "expected_start_time", "start_time", "end_time", "total_run_time",
        "flow_run_run_count",
    ),
    "task_run_state": (
        "id", "created", "task_run_id", "type", "name", "timestamp", "message",
        "state_details", "data",
    ),
    "log": (
        "id", "created", "updated", "name", "level", "message", "timestamp", "flow_run_id",
        "task_run_id",
    ),
    "event": (
        "id", "occurred", "received", "event", "resource_id", "resource", "related",
        "payload", "follows",
    ),
    "event_resource": ("event_id", "resource_id", "resource_role", "occurred"),
    "artifact": (
        "id", "created", "updated", "key", "type", "description", "data", "metadata_",
        "flow_run_id", "task_run_id",
    ),
    "artifact_collection": ("id", "created", "updated", "key", "latest_id"),
}  # fmt: skip


NULLABLE = {
    name: [c for c in columns if t.metadata.tables[name].c[c].nullable]
    for name, columns in COLUMNS.items()
}


def check_columns() -> None:
    """Fail early if the schema moved: every listed column exists, and every NOT NULL column
    without a server default is listed."""
    for name, columns in COLUMNS.items():
        table = t.metadata.tables[name]
        unknown = set(columns) - set(table.c.keys())
        if unknown:
            raise SystemExit(f"{name}: no such column(s) {sorted(unknown)} in baton.db.tables")
        missing = [
            c.name
            for c in table.c
            if not c.nullable and c.server_default is None and c.name not in columns
        ]
        if missing:
            raise SystemExit(f"{name}: the seeder does not fill NOT NULL column(s) {missing}")


def dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def dashed(n: int) -> str:
    """A UUID (as an int) in its canonical text form, as JSON documents carry it."""
    h = f"{n:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def iso_z(us: int) -> str:
    """A time as the orchestration rules write it into state details (format_time)."""
    return (EPOCH + dt.timedelta(microseconds=us)).isoformat() + "Z"


@dataclass(frozen=True)
class Format:
    """How the target database's driver takes ids, timestamps and booleans."""

    uid: Callable[[int], Any]
    ts: Callable[[int], Any]
    flag: Callable[[bool], Any]


def sqlite_ts(us: int) -> str:
    """'YYYY-MM-DD HH:MM:SS.ffffff' (UTC), as SQLAlchemy stores a Timestamp on SQLite."""
    return (EPOCH + dt.timedelta(microseconds=us)).isoformat(" ", "microseconds")


SQLITE_FORMAT = Format(uid=lambda n: f"{n:032x}", ts=sqlite_ts, flag=int)
# PostgreSQL rows become CSV for COPY (made in the worker processes): UUIDs as 32 hex
# digits (PostgreSQL's uuid input takes them), timestamps with an explicit UTC offset.
PG_FORMAT = Format(uid=lambda n: f"{n:032x}", ts=lambda us: sqlite_ts(us) + "+00", flag=bool)


@dataclass(frozen=True)
class Encoded:
    """A table's rows of one chunk as CSV for PostgreSQL's COPY."""

    data: bytes
    count: int


def to_csv(rows: list[Row]) -> Encoded:
    """Strings quoted, numbers bare, None as a quoted empty string: the COPY turns that
    into NULL with FORCE_NULL on the nullable columns (no nullable column holds '')."""
    buffer = io.StringIO()
    csv.writer(buffer, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n").writerows(rows)
    return Encoded(buffer.getvalue().encode(), len(rows))


@dataclass
class Dep:
    id: int
    name: str
    flow: int
    flow_name: str
    tags: list[str]
    parameters: dict[str, Any]
    pool: tuple[int, str] | None
    queue: tuple[int, str] | None
    scheduled: bool
    version: str


@dataclass
class Plan:
    """Counts chosen before generation, so totals land near the requested sizes."""

    runs: list[tuple[int, int]]  # (expected start µs, index into KINDS), time-ordered
    tasks_per_run: float
    logs_per_run: float


@dataclass
class Seeder:
    args: argparse.Namespace
    fmt: Format
    now: int = field(default_factory=lambda: time.time_ns() // 1000)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.args.seed)
        self.flows: list[tuple[int, str]] = []
        self.deps: list[Dep] = []
        self.pools: list[tuple[int, str, list[tuple[int, str]]]] = []
        self.latest_artifact: dict[str, tuple[int, int]] = {}
        self.event_window = self.now - 7 * DAY
        self.counts = {"subflows": 0}
        self._filler: dict[tuple[str, bool], list[tuple[int, str]]] = {}

    # --- ids and small helpers --------------------------------------------------------

    def uuid7(self, us: int) -> int:
        """A time-ordered id for time `us`, as the server makes them (RFC 9562 v7)."""
        r = self.rng.getrandbits(74)
        return ((us // 1000) << 80) | (0x7 << 76) | ((r >> 62) << 64) | (0b10 << 62) | (r & MASK62)

    def uuid4(self) -> int:
        return (self.rng.getrandbits(128) & ~(0xF << 76) & ~(0b11 << 62)) | (4 << 76) | (2 << 62)

    def run_name(self) -> str:
        return f"{self.rng.choice(ADJECTIVES)}-{self.rng.choice(ANIMALS)}"

    # --- the small tables --------------------------------------------------------------

    def static(self) -> Chunk:
        f, rng, now = self.fmt, self.rng, self.now
        made = now - 90 * DAY
        verbs = ["sync", "load", "etl", "refresh", "export", "ingest", "score", "clean", "audit"]
        nouns = [
            "orders", "customers", "invoices", "inventory", "clickstream", "payments",
            "shipments", "reviews", "campaigns", "ledger", "sessions", "forecasts",
        ]  # fmt: skip
        names = [f"{v}-{n}" for n in nouns for v in verbs]
        rng.shuffle(names)
        flows = []
        for i in range(self.args.flows):
            fid = self.uuid7(made + i * SECOND)
            name = names[i] if i < len(names) else f"flow-{i:03d}"
            self.flows.append((fid, name))
            flow_tags = dumps(["team-" + rng.choice(["data", "ml", "platform"])])
            flows.append((f.uid(fid), f.ts(made), f.ts(made), name, flow_tags, "{}"))

        pools_rows, queue_rows, worker_rows = [], [], []
        pool_specs = (
            ("k8s-prod", "kubernetes", (("default", 1, None), ("high", 0, 20), ("low", 5, 4))),
            ("process-local", "process", (("default", 1, None),)),
            ("docker-staging", "docker", (("default", 1, 5), ("gpu", 2, 2))),
        )
        for p, (pname, ptype, queues) in enumerate(pool_specs):
            pid = self.uuid7(made + p * SECOND)
            qs: list[tuple[int, str]] = []
            for qname, priority, limit in queues:
                qid = self.uuid7(made + p * SECOND + 1)
                qs.append((qid, qname))
                queue_rows.append(
                    (
                        f.uid(qid), f.ts(made), f.ts(made), f.uid(pid), qname,
                        f"{qname} queue of {pname}", f.flag(False), limit, priority,
                        f.ts(now - rng.randint(1, 20) * SECOND),
                    )
                )  # fmt: skip
            self.pools.append((pid, pname, qs))
            pools_rows.append(
                (
                    f.uid(pid), f.ts(made), f.ts(made), pname, f"{ptype} workers", ptype,
                    dumps({"job_configuration": {"command": "{{ command }}"}, "variables": {}}),
                    f.flag(False), 50 if p == 0 else None, f.uid(qs[0][0]),
                )
            )  # fmt: skip
            for w in range(3 if p < 2 else 1):
                stale = p == 2 or w == 2  # some workers stopped heart-beating
                beat = now - (rng.randint(2, 6) * HOUR if stale else rng.randint(1, 25) * SECOND)
                worker_rows.append(
                    (
                        f.uid(self.uuid7(made)), f.ts(made), f.ts(beat), f.uid(pid),
                        f"{pname}-worker-{w}", f.ts(beat), 30,
                    )
                )  # fmt: skip

        deployments, schedules = [], []
        schedule_shapes = (
            {"interval": 3600.0, "anchor_date": "2024-01-01T00:00:00+00:00", "timezone": "UTC"},
            {"interval": 900.0, "anchor_date": "2024-01-01T00:00:00+00:00", "timezone": "UTC"},
            {"interval": 86400.0, "anchor_date": "2024-01-01T06:30:00+00:00", "timezone": "UTC"},
            {"cron": "0 9 * * *", "timezone": "America/New_York"},
            {"cron": "*/15 * * * *", "timezone": "UTC"},
            {"cron": "0 2 * * 1-5", "timezone": "Europe/Berlin"},
            {"rrule": "FREQ=WEEKLY;BYDAY=MO,WE,FR;BYHOUR=6;BYMINUTE=0", "timezone": "UTC"},
        )
        envs = ["prod", "staging", "nightly", "hourly", "backfill", "adhoc", "eu", "us"]
        schema = {
            "title": "Parameters",
            "type": "object",
            "properties": {
                "batch_size": {"title": "batch_size", "position": 0, "type": "integer"},
                "date": {"title": "date", "position": 1, "type": "string", "format": "date"},
                "full_refresh": {"title": "full_refresh", "position": 2, "type": "boolean"},
            },
            "required": ["batch_size"],
        }
        for i in range(self.args.deployments):
            flow_id, flow_name = self.flows[i % len(self.flows)]
            per_flow = i // len(self.flows)
            name = envs[per_flow] if per_flow < len(envs) else f"env-{per_flow}"
            did = self.uuid7(made + DAY + i * SECOND)
            pid, pname, qs = self.pools[i % 7 % len(self.pools)]
            qid, qname = qs[i % len(qs)]
            scheduled = i % 5 < 3
            tags = ["prod" if name != "staging" else "staging", f"team-{i % 4}"]
            params = {"batch_size": 500 + 100 * (i % 5)}
            dep = Dep(
                did, name, flow_id, flow_name, tags, params, (pid, pname), (qid, qname),
                scheduled, f"1.{i % 9}.{i % 4}",
            )  # fmt: skip
            self.deps.append(dep)
            updated = now - rng.randint(1, 20 * 24) * HOUR
            polled = now - rng.randint(1, 40) * SECOND if i % 10 else None
            deployments.append(
                (
                    f.uid(did), f.ts(made + DAY), f.ts(updated), name, f.uid(flow_id),
                    dep.version, f"{flow_name} on {name}", f.flag(i % 20 == 19), dumps(tags),
                    "{}", dumps(params), dumps(schema), f.flag(True), "{}", ".",
                    f"flows/{flow_name.replace('-', '_')}.py:{flow_name.replace('-', '_')}",
                    qname, f.uid(qid), 3 if i % 10 == 0 else None,
                    f.ts(polled) if polled else None,
                )
            )  # fmt: skip
            if scheduled:
                raw = schedule_shapes[i % len(schedule_shapes)]
                schedules.append(
                    (
                        f.uid(self.uuid7(made + DAY)), f.ts(made + DAY), f.ts(made + DAY),
                        f.uid(did), dumps(parse_schedule(raw).to_wire()), f.flag(i % 11 != 0),
                        "{}",
                    )
                )  # fmt: skip

        limits = [
            (
                f.uid(self.uuid7(made)), f.ts(made), f.ts(now), name, limit, f.flag(True),
                float(rng.randint(0, limit)), 0, 0.0, 12.5,
            )
            for name, limit in (
                ("tag:database", 10), ("tag:external-api", 5), ("tag:gpu", 2),
                ("warehouse-writes", 8), ("vendor-rate-limit", 100),
            )
        ]  # fmt: skip
        variables = [
            (f.uid(self.uuid7(made + i * SECOND)), f.ts(made), f.ts(made), name, dumps(v),
             dumps(tags))
            for i, (name, v, tags) in enumerate(
                (
                    ("batch_size", 500, ["etl"]),
                    ("warehouse_schema", "analytics_prod", ["warehouse"]),
                    ("alert_emails", ["oncall@example.com", "data@example.com"], []),
                    ("feature_flags", {"new_scorer": True, "shadow_mode": False}, ["ml"]),
                    ("retry_backoff_seconds", 30.5, []),
                    ("maintenance_window", None, ["ops"]),
                    *((f"setting_{k:02d}", {"k": k, "on": k % 2 == 0}, []) for k in range(14)),
                )
            )
        ]  # fmt: skip
        return [
            ("flow", flows),
            ("work_pool", pools_rows),
            ("work_queue", queue_rows),
            ("worker", worker_rows),
            ("deployment", deployments),
            ("deployment_schedule", schedules),
            ("concurrency_limit", limits),
            ("variable", variables),
        ]

    # --- flow runs and what hangs off them ----------------------------------------------

    def plan(self) -> Plan:
        rng, now = self.rng, self.now
        weights = [w for *_, w in KINDS]
        runs = []
        started = big = 0
        for n in range(self.args.runs):
            k = rng.choices(range(len(KINDS)), weights)[0]
            kind, name, _ = KINDS[k]
            if kind in TERMINAL:
                at = now - rng.randint(15 * MINUTE, 30 * DAY)
                started += kind != "CANCELLED" or rng.random() < 0.7
                big += n % 1000 == 500 and kind in ("COMPLETED", "FAILED")
            elif kind == "RUNNING":
                at = now - rng.randint(30 * SECOND, 3 * HOUR)
                started += 1
            elif kind == "PENDING":
                at = now - rng.randint(5 * SECOND, 5 * MINUTE)
            elif name == "Late":
                at = now - rng.randint(10 * MINUTE, 6 * HOUR)
            else:
                at = now + rng.randint(30 * SECOND, 7 * DAY)
            runs.append((at, k))
        runs.sort()
        # Big runs take a fixed share; subflows (about 1 in 100 runs, a few rows) ignored.
        ordinary = max(1, started - big)
        return Plan(
            runs,
            max(0.0, self.args.task_runs - big * BIG_TASKS) / ordinary,
            max(0.0, self.args.logs - big * BIG_LOGS) / ordinary,
        )

    def prepare(self) -> Chunk:
        """The small tables and the plan (in the parent, before the workers fork)."""
        static = self.static()
        self.planned = self.plan()
        self.dep_weights = [1 / (i + 1) ** 0.7 for i in range(len(self.deps))]
        self.flow_weights = [1 / (i + 1) ** 0.5 for i in range(len(self.flows))]
        return static

    @property
    def n_chunks(self) -> int:
        return -(-len(self.planned.runs) // RUNS_PER_CHUNK)

    def chunk(self, index: int) -> tuple[Chunk, dict[str, tuple[int, int]], int]:
        """Chunk `index` of the runs with everything hanging off them; the same whichever
        process makes it (its own random stream). Also returns the artifact keys' latest
        versions and how many subflows it made."""
        self.rng = random.Random(self.args.seed * 1_000_003 + index + 1)
        self.latest_artifact = {}
        self.counts["subflows"] = 0
        plan, chunk = self.planned, self.new_chunk()
        for n in range(index * RUNS_PER_CHUNK, min(len(plan.runs), (index + 1) * RUNS_PER_CHUNK)):
            at, k = plan.runs[n]
            kind, name, _ = KINDS[k]
            adhoc = kind != "SCHEDULED" and (not self.deps or self.rng.random() < 0.2)
            dep = None if adhoc else self.rng.choices(self.deps, self.dep_weights)[0]
            if dep is None:
                flow = self.rng.choices(self.flows, self.flow_weights)[0]
            else:
                flow = (dep.flow, dep.flow_name)
            big = n % 1000 == 500 and kind in ("COMPLETED", "FAILED")
            self.flow_run(chunk, plan, at, kind, name, dep, flow, None, big)
        return self.flush(chunk), self.latest_artifact, self.counts["subflows"]

    def collections(self, latest: dict[str, tuple[int, int]]) -> Chunk:
        f = self.fmt
        rows = [
            (f.uid(self.uuid7(created)), f.ts(created), f.ts(created), key, f.uid(aid))
            for key, (created, aid) in sorted(latest.items())
        ]
        return [("artifact_collection", rows)]

    def stream(self, static: Chunk, pool: Any) -> Iterator[Chunk]:
        """Every chunk in load order: the small tables, the runs (made by the worker
        `pool`, at most a few chunks ahead of the writer), the artifact collections."""
        yield static
        latest: dict[str, tuple[int, int]] = {}
        for chunk, keys, subflows in generate(self, pool):
            for key, value in keys.items():
                latest[key] = max(latest.get(key, value), value)
            self.counts["subflows"] += subflows
            yield chunk
        yield self.collections(latest)

    @staticmethod
    def new_chunk() -> dict[str, list[Row]]:
        return {name: [] for name in COLUMNS}

    @staticmethod
    def flush(chunk: dict[str, list[Row]]) -> Chunk:
        order = (
            "flow_run", "flow_run_state", "task_run", "task_run_state", "log", "event",
            "event_resource", "artifact",
        )  # fmt: skip
        return [(name, chunk[name]) for name in order if chunk[name]]

    def flow_run(
        self,
        chunk: dict[str, list[Row]],
        plan: Plan,
        expected: int,
        kind: str,
        state_name: str,
        dep: Dep | None,
        flow: tuple[int, str],
        parent_task: int | None,
        big: bool,
    ) -> tuple[int, int | None, int | None]:
        """One flow run with its history, task runs, logs and events; returns (id, start,
        end)."""
        f, rng, now = self.fmt, self.rng, self.now
        auto = dep is not None and dep.scheduled and parent_task is None and rng.random() < 0.8
        if dep is None:
            created = expected
        elif auto:
            created = max(expected - rng.randint(1 * HOUR, 3 * DAY), expected - 100 * DAY)
        else:
            created = expected - rng.randint(SECOND, 10 * SECOND)
        created = min(created, now)
        rid = self.uuid7(created)
        rid_s = dashed(rid)
        started = kind == "RUNNING" or (kind in TERMINAL and not (
            kind == "CANCELLED" and rng.random() < 0.3
        ))  # fmt: skip
        start = end = None
        if started:
            start = expected + rng.randint(SECOND // 2, 8 * SECOND)
            if kind != "RUNNING":
                duration = int(min(6 * 3600, math.exp(rng.gauss(4.2, 1.2))) * SECOND)
                if big:
                    duration = max(duration, 30 * MINUTE)
                end = min(start + duration, now - 10 * SECOND)
                start = min(start, end - SECOND)
        elif kind == "CANCELLED":
            start = end = expected + rng.randint(SECOND, HOUR)  # cancelled before it ran

        # The history, as the client and server would have written it.
        history: list[tuple[str, str, int, str | None]] = []
        if dep is not None:
            history.append(("SCHEDULED", "Scheduled", created, None))
        if state_name == "Late":
            history.append(("SCHEDULED", "Late", expected + 15 * SECOND, None))
        if kind == "PENDING" or started:
            first = start - SECOND if start is not None else expected + SECOND
            history.append(("PENDING", "Pending", max(first, created), None))
        if started:
            assert start is not None
            history.append(("RUNNING", "Running", start, None))
        if kind in TERMINAL:
            assert end is not None
            if kind == "CANCELLED":
                history.append(("CANCELLING", "Cancelling", end - SECOND, None))
            message = {
                "COMPLETED": "All states completed.",
                "FAILED": "Flow run encountered an exception: ValueError: upstream returned 0 "
                "rows for partition",
                "CRASHED": "Flow run infrastructure exited with non-zero status code 137.",
                "CANCELLED": "Flow run was cancelled by a user.",
            }[kind]
            history.append((kind, state_name, end, message))
        if not history:
            history.append(("PENDING", "Pending", created, None))

        scheduled_iso = iso_z(expected)
        in_events = history[-1][2] >= self.event_window
        states: list[dict[str, Any]] = []
        for h_kind, h_name, h_at, h_msg in history:
            sid = self.uuid7(h_at)
            overrides: dict[str, Any] = {"flow_run_id": rid_s}
            if h_kind == "SCHEDULED":
                overrides["scheduled_time"] = scheduled_iso
            if h_kind != "SCHEDULED" or h_name != "Late":
                overrides["transition_id"] = dashed(self.uuid4())
            details = full_details(None, **overrides)
            details_json = dumps(details)
            chunk["flow_run_state"].append(
                (
                    f.uid(sid), f.ts(h_at), f.uid(rid), h_kind, h_name, f.ts(h_at), h_msg,
                    details_json, None,
                )
            )  # fmt: skip
            states.append(
                {"id": sid, "type": h_kind, "name": h_name, "at": h_at, "message": h_msg,
                 "details": details, "json": details_json}
            )  # fmt: skip
        current = states[-1]

        pool = dep.pool if dep else None
        q = dep.queue if dep else None
        params = {**(dep.parameters if dep else {}), "date": iso_z(expected)[:10]}
        tags = list(dep.tags) if dep else ["adhoc"]
        labels = {"prefect.flow.id": dashed(flow[0])}
        if dep is not None:
            labels["prefect.deployment.id"] = dashed(dep.id)
        idem = f"scheduled {dashed(dep.id)} {expected}" if auto and dep else None
        total = (end - start) / SECOND if start is not None and end is not None else 0.0
        name = self.run_name()
        last_at = current["at"]
        chunk["flow_run"].append(
            (
                f.uid(rid), f.ts(created), f.ts(last_at), name, f.uid(flow[0]),
                f.uid(dep.id) if dep else None, dep.version if dep else None,
                f.uid(q[0]) if q else None, q[1] if q else None,
                f.uid(pool[0]) if pool else None, pool[1] if pool else None,
                "a1b2c3d4" if dep else None, dumps(params), idem, "{}", dumps(FLOW_POLICY),
                dumps(tags), dumps(labels), f.uid(parent_task) if parent_task else None,
                f.uid(current["id"]), current["type"], current["name"], f.ts(last_at),
                current["message"], current["json"], None, 1 if started else 0,
                f.ts(expected), f.ts(expected) if kind == "SCHEDULED" else None,
                f.ts(start) if start is not None else None,
                f.ts(end) if end is not None else None, total, f.flag(auto), "{}",
            )
        )  # fmt: skip

        if in_events:
            self.events(chunk, rid, name, flow, dep, tags, 1 if started else 0, states)

        if started and start is not None:
            stop = end if end is not None else now
            self.tasks_and_logs(chunk, plan, rid, name, flow, kind, start, stop, big, parent_task)
        return rid, start, end

    def tasks_and_logs(
        self,
        chunk: dict[str, list[Row]],
        plan: Plan,
        rid: int,
        run_name: str,
        flow: tuple[int, str],
        kind: str,
        start: int,
        stop: int,
        big: bool,
        parent_task: int | None,
    ) -> None:
        f, rng, now = self.fmt, self.rng, self.now
        rid_u, rid_s = f.uid(rid), dashed(rid)
        span = max(stop - start, SECOND)
        if big:
            n_tasks, n_logs = BIG_TASKS, BIG_LOGS
        else:
            n_tasks = int(plan.tasks_per_run * rng.uniform(0.5, 1.5) + 0.5)
            n_logs = int(plan.logs_per_run * rng.uniform(0.5, 1.5) + 0.5)
        if parent_task is not None:  # subflows are small
            n_tasks, n_logs = min(n_tasks, 4), min(n_logs, 20)
        functions = ("extract", "transform", "validate", "load", "notify")
        labels = dumps({"prefect.flow.id": dashed(flow[0]), "prefect.flow-run.id": rid_s})
        policy = dumps(TASK_POLICY)
        # Tasks in order: each starts in the run's span and takes part of what is left.
        offsets = sorted(rng.random() * 0.9 for _ in range(n_tasks))
        tasks: list[tuple[int, int, int | None, str]] = []  # (id, start, end, name)
        previous: str | None = None
        counters: dict[str, int] = {}
        task_keys: dict[str, str] = {}
        subflow_slot = n_tasks // 2 if (n_tasks >= 4 and rid % 97 == 0 and not parent_task) else -1
        for j, off in enumerate(offsets):
            t_start = start + int(span * off)
            t_end: int | None = t_start + int((stop - t_start) * rng.uniform(0.02, 0.3))
            t_kind, t_name, message = "COMPLETED", "Completed", None
            if j == n_tasks - 1 and kind in ("FAILED", "CRASHED", "CANCELLED"):
                t_kind, t_name = kind, kind.title()
                message = "Task run encountered an exception" if kind == "FAILED" else None
            if kind == "RUNNING" and t_end is not None and t_end > now - 5 * SECOND:
                t_kind, t_name, t_end, message = "RUNNING", "Running", None, None
            fn = functions[j % len(functions)]
            is_subflow = j == subflow_slot
            if is_subflow:
                fn = self.flows[(flow[0] + 1) % len(self.flows)][1]
            if fn not in task_keys:
                task_keys[fn] = f"{fn}-{zlib.crc32((flow[1] + fn).encode()):08x}"
            dyn = counters.get(fn, 0)
            counters[fn] = dyn + 1
            tid = self.uuid7(t_start)
            tid_s = dashed(tid)
            task_name = f"{fn}-{rng.getrandbits(12):03x}"
            state_at = t_end if t_end is not None else t_start
            sid = self.uuid7(state_at)
            details = dumps(full_details(None, task_run_id=tid_s, flow_run_id=rid_s))
            inputs = {"data": [{"input_type": "task_run", "id": previous}]} if previous else {}
            total = (t_end - t_start) / SECOND if t_end is not None else 0.0
            tid_u, sid_u, began, stated = f.uid(tid), f.uid(sid), f.ts(t_start), f.ts(state_at)
            chunk["task_run"].append(
                (
                    tid_u, began, stated, task_name, rid_u, task_keys[fn], str(dyn), policy,
                    "[]", labels, dumps(inputs), sid_u, t_kind, t_name, stated, message,
                    details, None, 1, began, began, stated if t_end is not None else None,
                    total, 1,
                )
            )  # fmt: skip
            chunk["task_run_state"].append(
                (sid_u, stated, tid_u, t_kind, t_name, stated, message, details, None)
            )
            tasks.append((tid, t_start, t_end, task_name))
            previous = tid_s
            if is_subflow:
                self.subflow(chunk, plan, tid, t_start, t_kind, flow)
        self.logs(chunk, rid, run_name, flow[1], kind, start, stop, n_logs, tasks)
        if kind == "COMPLETED" and rid % 400 == 7:
            self.artifacts(chunk, rid, flow[1], stop, tasks)

    def subflow(
        self,
        chunk: dict[str, list[Row]],
        plan: Plan,
        task_id: int,
        t_start: int,
        t_kind: str,
        parent_flow: tuple[int, str],
    ) -> None:
        """A subflow run of `parent_flow`'s placeholder task `task_id`, in its state."""
        flow = self.flows[(parent_flow[0] + 1) % len(self.flows)]
        kind = t_kind if t_kind in TERMINAL or t_kind == "RUNNING" else "COMPLETED"
        self.counts["subflows"] += 1
        self.flow_run(chunk, plan, t_start, kind, kind.title(), None, flow, task_id, False)

    def logs(
        self,
        chunk: dict[str, list[Row]],
        rid: int,
        run_name: str,
        flow_name: str,
        kind: str,
        start: int,
        stop: int,
        n: int,
        tasks: Sequence[tuple[int, int, int | None, str]],
    ) -> None:
        f, rng = self.fmt, self.rng
        rid_u = f.uid(rid)
        lines: list[tuple[int, int, str, int | None, str]] = []  # (at, level, msg, task, logger)
        flow_logger, task_logger = "prefect.flow_runs", "prefect.task_runs"
        lines.append(
            (start, 20, f"Beginning flow run '{run_name}' for flow '{flow_name}'", None,
             flow_logger)
        )  # fmt: skip
        for task_id, t_start, t_end, t_name in tasks:
            base = t_name.rsplit("-", 1)[0]
            lines.append(
                (t_start, 20, f"Created task run '{t_name}' for task '{base}'", None, flow_logger)
            )
            if t_end is not None:
                lines.append((t_end, 20, "Finished in state Completed()", task_id, task_logger))
        if kind in TERMINAL:
            final = {
                "COMPLETED": "Finished in state Completed('All states completed.')",
                "FAILED": "Finished in state Failed('Flow run encountered an exception: "
                "ValueError: upstream returned 0 rows for partition')",
                "CRASHED": "Crash detected! Execution was interrupted by an unexpected exception.",
                "CANCELLED": "Finished in state Cancelled('Flow run was cancelled by a user.')",
            }[kind]
            level = 20 if kind in ("COMPLETED", "CANCELLED") else 40
            lines.append((stop, level, final, None, flow_logger))
        if kind == "FAILED":
            lines.append((stop - 1000, 40, TRACEBACK, None, flow_logger))
        del lines[n:]
        span = max(stop - start, SECOND)
        pool = self.filler(flow_name, kind in ("FAILED", "CRASHED"))
        size = len(pool)
        random = rng.random
        task_ids = [task[0] for task in tasks]
        n_tasks = len(task_ids)
        for _ in range(n - len(lines)):
            level, msg = pool[int(random() * size)]
            r = random()
            if r < 0.7 and n_tasks:
                lines.append(
                    (start + int(span * random()), level, msg, task_ids[int(r / 0.7 * n_tasks)],
                     task_logger)
                )  # fmt: skip
            else:
                lines.append((start + int(span * random()), level, msg, None, flow_logger))
        lines.sort(key=lambda line: line[0])
        out = chunk["log"]
        uid, ts, uuid7 = f.uid, f.ts, self.uuid7
        for at, level, msg, tid, logger in lines:
            stamp = ts(at)
            out.append(
                (uid(uuid7(at)), stamp, stamp, logger, level, msg, stamp, rid_u,
                 uid(tid) if tid is not None else None)
            )  # fmt: skip

    def filler(self, flow_name: str, failing: bool) -> list[tuple[int, str]]:
        """Application log lines for one flow (made once, picked from at random)."""
        key = (flow_name, failing)
        found = self._filler.get(key)
        if found is not None:
            return found
        rng = random.Random(zlib.crc32(f"{self.args.seed} {flow_name} {failing}".encode()))
        pool: list[tuple[int, str]] = []
        api = f"https://api.example.com/v2/{flow_name}"
        for k in range(1, 2001):
            roll = rng.random()
            if roll < 0.1:
                pool.append((10, f"Cache miss for key {rng.getrandbits(64):016x}; computing"))
            elif roll < 0.16:
                pool.append(
                    (30, f"Retrying request to {api} (attempt {k % 3 + 1}/3): read timeout")
                )
            elif roll < 0.18 and failing:
                pool.append((40, f"Partition {k} failed validation: 0 rows, expected > 0"))
            elif roll < 0.5:
                rows = k * 1237 % 50000
                pool.append((20, f"Processed batch {k} of 2000: {rows:,} rows in {k % 17}.25s"))
            elif roll < 0.8:
                path = f"s3://data-lake/{flow_name}/part-{k:05d}.parquet"
                pool.append((20, f"Wrote {path} ({k % 97 + 0.5:.1f} MB)"))
            else:
                pool.append((20, f"Fetched {k * 13} records from {api}?page={k}"))
        self._filler[key] = pool
        return pool

    def events(
        self,
        chunk: dict[str, list[Row]],
        rid: int,
        name: str,
        flow: tuple[int, str],
        dep: Dep | None,
        tags: list[str],
        run_count: int,
        states: list[dict[str, Any]],
    ) -> None:
        f = self.fmt
        if self.rng.random() >= self.args.events / max(1.0, self.args.runs * 7 / 30 * 3.5):
            return
        run = {
            "id": dashed(rid),
            "name": name,
            "run_count": run_count,
            "flow_id": dashed(flow[0]),
            "deployment_id": dashed(dep.id) if dep else None,
            "work_queue_id": dashed(dep.queue[0]) if dep and dep.queue else None,
            "work_queue_name": dep.queue[1] if dep and dep.queue else None,
            "work_pool_id": dashed(dep.pool[0]) if dep and dep.pool else None,
            "work_pool_name": dep.pool[1] if dep and dep.pool else None,
            "tags": tags,
        }
        previous = None
        follows = None
        for s in states:
            state = {
                "type": s["type"],
                "name": s["name"],
                "message": s["message"],
                "state_details": s["details"],
                "data": None,
                "timestamp": EPOCH_UTC + dt.timedelta(microseconds=s["at"]),
            }
            event = state_change_event(run, flow[1], previous, state)
            eid = self.uuid7(s["at"])
            occurred = f.ts(s["at"])
            chunk["event"].append(
                (
                    f.uid(eid), occurred, f.ts(s["at"] + 20_000), event["event"],
                    event["resource"]["prefect.resource.id"], dumps(event["resource"]),
                    dumps(event["related"]), dumps(event["payload"]),
                    f.uid(follows) if follows else None,
                )
            )  # fmt: skip
            seen = set()
            for i, labels in enumerate([event["resource"], *event["related"]]):
                role = labels.get("prefect.resource.role", "") if i else ""
                key = (labels["prefect.resource.id"], role)
                if key not in seen:
                    seen.add(key)
                    chunk["event_resource"].append((f.uid(eid), key[0], key[1], occurred))
            previous, follows = state, eid

    def artifacts(
        self,
        chunk: dict[str, list[Row]],
        rid: int,
        flow_name: str,
        at: int,
        tasks: Sequence[tuple[int, int, int | None, str]],
    ) -> None:
        f = self.fmt
        task = f.uid(tasks[-1][0]) if tasks else None
        rows = self.rng.randint(5, 5000)
        made = [
            (
                f"{flow_name}-report",
                "markdown",
                f"Summary of {flow_name}",
                dumps(f"# {flow_name}\n\nRows processed: **{rows:,}**\n\n| metric | value |\n"
                      f"|---|---|\n| rows | {rows} |\n| errors | {rows % 7} |\n"),
            ),
            (
                f"{flow_name}-quality",
                "table",
                "Data quality checks",
                dumps(dumps([{"check": c, "passed": (rows + i) % 5 != 0}
                             for i, c in enumerate(("nulls", "dupes", "schema", "freshness"))])),
            ),
            (None, "link", "Dashboard", dumps(f"https://dash.example.com/{flow_name}?run={rid}")),
        ]  # fmt: skip
        for i, (key, kind, description, data) in enumerate(made):
            created = at + i * 1000
            aid = self.uuid7(created)
            chunk["artifact"].append(
                (f.uid(aid), f.ts(created), f.ts(created), key, kind, description, data, "{}",
                 f.uid(rid), task)
            )  # fmt: skip
            if key is not None:
                self.latest_artifact[key] = (created, aid)


TRACEBACK = """Encountered exception during execution:
Traceback (most recent call last):
  File "/usr/local/lib/python3.12/site-packages/prefect/flow_engine.py", line 765, in run_context
    yield self
  File "/usr/local/lib/python3.12/site-packages/prefect/flow_engine.py", line 1370, in run_flow_sync
    engine.call_flow_fn()
  File "/opt/flows/pipeline.py", line 88, in load
    raise ValueError("upstream returned 0 rows for partition")
ValueError: upstream returned 0 rows for partition"""


# --- writing -----------------------------------------------------------------------------


@dataclass
class Stats:
    rows: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def add(self, table: str, rows: int, seconds: float) -> None:
        self.rows[table] = self.rows.get(table, 0) + rows
        self.seconds[table] = self.seconds.get(table, 0.0) + seconds

    def print(self, phases: dict[str, float]) -> None:
        print("\n| table | rows | write s | rows/s |")
        print("|---|---:|---:|---:|")
        for table, rows in self.rows.items():
            s = self.seconds[table]
            print(f"| {table} | {rows:,} | {s:.1f} | {rows / s if s else 0:,.0f} |")
        total = sum(self.rows.values())
        print(f"\n{total:,} rows; " + ", ".join(f"{k} {v:.1f}s" for k, v in phases.items()))


_SEEDER: Seeder | None = None  # the workers' copy (inherited by fork)


def _make_chunk(index: int) -> bytes:
    # Pickled here, so the parent's result thread only passes bytes along and the writer
    # unpickles when it is ready (no GIL convoy with the writer's inserts).
    assert _SEEDER is not None
    made = _SEEDER.chunk(index)
    if _SEEDER.fmt is PG_FORMAT:
        made = ([(table, to_csv(rows)) for table, rows in made[0]], *made[1:])
    return pickle.dumps(made, protocol=pickle.HIGHEST_PROTOCOL)


def generate(seeder: Seeder, pool: Any) -> Iterator[tuple[Chunk, dict[str, tuple[int, int]], int]]:
    """The run chunks in order, made by the forked `pool`, a few chunks ahead."""
    indexes = iter(range(seeder.n_chunks))
    ahead = pool._processes + 1
    pending: collections.deque[Any] = collections.deque(
        pool.apply_async(_make_chunk, (i,)) for i in itertools.islice(indexes, ahead)
    )
    while pending:
        data = pending.popleft().get()
        following = next(indexes, None)
        if following is not None:
            pending.append(pool.apply_async(_make_chunk, (following,)))
        yield pickle.loads(data)


def quote(column: str) -> str:
    return f'"{column}"'


def sqlite_secondary_indexes(db: sqlite3.Connection) -> list[tuple[str, str]]:
    marks = ",".join("?" * len(BIG_TABLES))
    return db.execute(
        f"SELECT name, sql FROM sqlite_master WHERE type='index' AND sql IS NOT NULL"
        f" AND tbl_name IN ({marks})",
        BIG_TABLES,
    ).fetchall()


def load_sqlite(path: Path, stream: Iterator[Chunk], analyze: bool) -> None:
    stats, phases = Stats(), {}
    started = time.perf_counter()
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA foreign_keys=OFF")
    db.execute("PRAGMA cache_size=-65536")  # 64 MB of page cache for the load
    if db.execute("SELECT count(*) FROM flow").fetchone()[0]:
        raise SystemExit(f"{path} already holds flows: seed a fresh database")
    indexes = sqlite_secondary_indexes(db)
    for name, _ in indexes:
        db.execute(f'DROP INDEX "{name}"')
    statements = {
        name: f"INSERT INTO {name} ({', '.join(map(quote, cols))})"
        f" VALUES ({', '.join('?' * len(cols))})"
        for name, cols in COLUMNS.items()
    }
    db.execute("BEGIN")
    pending = 0
    try:
        for chunk in stream:
            for table, rows in chunk:
                begin = time.perf_counter()
                db.executemany(statements[table], rows)
                stats.add(table, len(rows), time.perf_counter() - begin)
                pending += len(rows)
            if pending > 2_000_000:  # a few big transactions, so the WAL is checkpointed
                db.execute("COMMIT")
                db.execute("BEGIN")
                pending = 0
            report(stats, started)
        db.execute("COMMIT")
    except BaseException:
        db.rollback()
        for _, sql in indexes:  # leave the schema as the migrations made it
            db.execute(sql)
        raise
    phases["load"] = time.perf_counter() - started
    begin = time.perf_counter()
    for _, sql in indexes:
        db.execute(sql)
    phases[f"{len(indexes)} indexes"] = time.perf_counter() - begin
    if analyze:
        begin = time.perf_counter()
        db.execute("ANALYZE")
        phases["analyze"] = time.perf_counter() - begin
    begin = time.perf_counter()
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    phases["checkpoint"] = time.perf_counter() - begin
    db.close()
    phases["total"] = time.perf_counter() - started
    stats.print(phases)


async def load_postgres(url: sa.URL, stream: Iterator[Chunk]) -> None:
    import asyncpg

    stats, phases = Stats(), {}
    started = time.perf_counter()
    conn = await asyncpg.connect(
        user=url.username,
        password=url.password,
        host=url.host,
        port=url.port or 5432,
        database=url.database,
    )
    try:
        if await conn.fetchval("SELECT count(*) FROM flow"):
            raise SystemExit("the database already holds flows: seed a fresh one")
        # Secondary indexes (not backing a primary key or unique constraint) of the big tables.
        indexes = await conn.fetch(
            """SELECT i.indexname, i.indexdef FROM pg_indexes i
               WHERE i.schemaname = current_schema() AND i.tablename = ANY($1::text[])
               AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)""",
            list(BIG_TABLES),
        )
        for row in indexes:
            await conn.execute(f'DROP INDEX "{row["indexname"]}"')
        try:  # foreign-key triggers off for the load (needs a superuser; fine without)
            await conn.execute("SET session_replication_role = replica")
        except asyncpg.PostgresError:
            print("(not a superuser: foreign keys are checked during the load)")
        loop = asyncio.get_running_loop()
        try:
            while (chunk := await loop.run_in_executor(None, next, stream, None)) is not None:
                async with conn.transaction():
                    for table, rows in chunk:
                        begin = time.perf_counter()
                        encoded = rows if isinstance(rows, Encoded) else to_csv(rows)
                        await conn.copy_to_table(
                            table,
                            source=io.BytesIO(encoded.data),
                            columns=COLUMNS[table],
                            format="csv",
                            force_null=NULLABLE[table] or None,
                        )
                        stats.add(table, encoded.count, time.perf_counter() - begin)
                report(stats, started)
            phases["load"] = time.perf_counter() - started
        finally:  # the indexes come back even if the load failed
            begin = time.perf_counter()
            await conn.execute("RESET session_replication_role")
            await conn.execute("SET maintenance_work_mem = '256MB'")
            for row in indexes:
                await conn.execute(row["indexdef"])
        phases[f"{len(indexes)} indexes"] = time.perf_counter() - begin
        begin = time.perf_counter()
        await conn.execute("VACUUM ANALYZE")
        phases["vacuum analyze"] = time.perf_counter() - begin
    finally:
        await conn.close()
    phases["total"] = time.perf_counter() - started
    stats.print(phases)


_last_report = [0.0]


def report(stats: Stats, started: float) -> None:
    now = time.perf_counter()
    if now - _last_report[0] < 10:
        return
    _last_report[0] = now
    done = ", ".join(f"{k} {v:,}" for k, v in stats.rows.items() if k in ("flow_run", "log"))
    if not done:
        return
    print(f"  {now - started:6.0f}s  {done}", file=sys.stderr, flush=True)


def migrate(url: sa.URL) -> None:
    from baton.db.engine import create_engine
    from baton.db.migrate import ensure_schema

    async def run() -> None:
        engine = create_engine(url)
        try:
            await ensure_schema(engine)
        finally:
            await engine.dispose()

    asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--home", type=Path, help="a Baton home: its baton.db (SQLite)")
    where.add_argument("--database-url", help=f"a {DATABASE_URL_VAR}-style URL")
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--task-runs", type=int, default=1_000_000)
    parser.add_argument("--logs", type=int, default=5_000_000)
    parser.add_argument("--flows", type=int, default=50)
    parser.add_argument("--deployments", type=int, default=200)
    parser.add_argument("--events", type=int, default=50_000, help="about this many")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 2, help="generator processes"
    )
    parser.add_argument("--analyze", action="store_true", help="ANALYZE a SQLite database")
    args = parser.parse_args()
    check_columns()
    if args.home is not None:
        args.home.mkdir(parents=True, exist_ok=True)
        url = Settings.from_env({"BATON_HOME": str(args.home)}).db_url
    else:
        url = parse_database_url(args.database_url)
    begin = time.perf_counter()
    migrate(url)
    print(f"migrated in {time.perf_counter() - begin:.1f}s")
    sqlite = url.get_backend_name() == "sqlite"
    seeder = Seeder(args, SQLITE_FORMAT if sqlite else PG_FORMAT)
    static = seeder.prepare()
    global _SEEDER
    _SEEDER = seeder
    # Fork the generators now, before any database connection or thread exists.
    with multiprocessing.get_context("fork").Pool(args.workers) as pool:
        stream = seeder.stream(static, pool)
        if sqlite:
            assert url.database
            load_sqlite(Path(url.database), stream, args.analyze)
        else:
            asyncio.run(load_postgres(url, stream))
    print(f"({seeder.counts['subflows']:,} of the flow runs are subflows)")


if __name__ == "__main__":
    main()
