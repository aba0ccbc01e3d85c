"""Work pools: create (with their default queue), read, change, delete, query; a worker
joining its pool over the worker channel; and the job templates of the worker types Baton
describes to the CLI.

Computed when read:
- `status`: PAUSED when the pool is paused, else READY while at least one of its workers
  is ONLINE (see `baton.core.workers`), else NOT_READY;
- `active_slots`: how many of its runs hold a slot (PENDING, RUNNING or CANCELLING).
A list of pools costs three queries however long it is.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from baton.clock import utcnow, uuid7
from baton.core import filters as qf
from baton.core.work_queues import (
    ACTIVE_STATES,
    DEFAULT_QUEUE,
    DEFAULT_QUEUE_DESCRIPTION,
    create_queue,
    pool_not_found,
)
from baton.core.workers import online_clause, upsert_worker
from baton.db import tables as t
from baton.db.database import Database
from baton.db.dialect import insert
from baton.errors import Conflict, InvalidInput
from baton.schemas.work_pools import (
    WorkerHello,
    WorkPoolCountBody,
    WorkPoolCreate,
    WorkPoolFilter,
    WorkPoolFilterBody,
    pool_name_problem,
)

WP = t.work_pool
WQ = t.work_queue
W = t.worker
FR = t.flow_run

_STORAGE_KEYS = ("bundle_upload_step", "bundle_execution_step", "default_result_storage_block_id")


# --- reading ----------------------------------------------------------------------------


def pool_status(is_paused: bool, online: bool) -> str:
    if is_paused:
        return "PAUSED"
    return "READY" if online else "NOT_READY"


def pool_out(row: Any, online: bool, active_slots: int) -> dict[str, Any]:
    storage = row.storage_configuration or {}
    return {
        "id": row.id,
        "created": row.created,
        "updated": row.updated,
        "name": row.name,
        "description": row.description,
        "type": row.type,
        "base_job_template": row.base_job_template,
        "is_paused": row.is_paused,
        "concurrency_limit": row.concurrency_limit,
        "status": pool_status(row.is_paused, online),
        "default_queue_id": row.default_queue_id,
        "storage_configuration": {key: storage.get(key) for key in _STORAGE_KEYS},
        "active_slots": active_slots,
    }


def read_pools(
    conn: sa.Connection,
    where: qf.Clause,
    limit: int | None = None,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """The pools `where` finds, by name, with status and active slots. A sync function, so
    reads run it with `AsyncConnection.run_sync` and writes inside their job."""
    stmt = sa.select(WP).where(where).order_by(WP.c.name).limit(limit).offset(offset)
    rows = conn.execute(stmt).all()
    if not rows:
        return []
    ids = [r.id for r in rows]
    now = utcnow()
    online = set(
        conn.scalars(
            sa.select(W.c.work_pool_id)
            .where(W.c.work_pool_id.in_(ids), online_clause(conn.dialect.name, now))
            .distinct()
        )
    )
    slots: dict[uuid.UUID, int] = dict(
        conn.execute(
            sa.select(FR.c.work_pool_id, sa.func.count())
            .where(FR.c.work_pool_id.in_(ids), FR.c.state_type.in_(ACTIVE_STATES))
            .group_by(FR.c.work_pool_id)
        ).all()
    )
    return [pool_out(r, r.id in online, slots.get(r.id, 0)) for r in rows]


def _read_one(conn: sa.Connection, name: str) -> dict[str, Any]:
    found = read_pools(conn, WP.c.name == name)
    if not found:
        raise pool_not_found(name)
    return found[0]


async def read_work_pool(db: Database, name: str) -> dict[str, Any]:
    async with db.read() as conn:
        return await conn.run_sync(_read_one, name)


def pool_clause(flt: WorkPoolFilter | None) -> qf.Clause:
    if flt is None:
        return sa.true()
    clauses = [*qf.ids(WP.c.id, flt.id), *qf.text(WP.c.name, flt.name)]
    if flt.type is not None and flt.type.any_ is not None:
        clauses.append(WP.c.type.in_(flt.type.any_))
    return qf.combine(flt.operator, clauses)


async def filter_work_pools(db: Database, body: WorkPoolFilterBody) -> list[dict[str, Any]]:
    limit, offset = body.page
    async with db.read() as conn:
        return await conn.run_sync(read_pools, pool_clause(body.work_pools), limit, offset)


async def count_work_pools(db: Database, body: WorkPoolCountBody) -> int:
    stmt = sa.select(sa.func.count()).select_from(WP).where(pool_clause(body.work_pools))
    async with db.read() as conn:
        return int(await conn.scalar(stmt) or 0)


# --- writing ----------------------------------------------------------------------------


def insert_pool(
    conn: sa.Connection,
    name: str,
    pool_type: str,
    base_job_template: dict[str, Any],
    now: dt.datetime,
    **columns: Any,
) -> uuid.UUID | None:
    """Insert a pool with its default queue; None if the name is taken."""
    pool_id = uuid7()
    inserted = conn.execute(
        insert(conn, WP)
        .values(
            id=pool_id,
            created=now,
            updated=now,
            name=name,
            type=pool_type,
            base_job_template=base_job_template,
            **columns,
        )
        .on_conflict_do_nothing(index_elements=["name"])
        .returning(WP.c.id)
    ).first()
    if inserted is None:
        return None
    queue_id = create_queue(
        conn, pool_id, DEFAULT_QUEUE, now, priority=1, description=DEFAULT_QUEUE_DESCRIPTION
    )
    conn.execute(WP.update().where(WP.c.id == pool_id).values(default_queue_id=queue_id))
    return pool_id


async def create_work_pool(db: Database, body: WorkPoolCreate) -> dict[str, Any]:
    def job(conn: sa.Connection) -> dict[str, Any]:
        pool_id = insert_pool(
            conn,
            body.name,
            body.type,
            body.base_job_template,
            utcnow(),
            description=body.description,
            is_paused=body.is_paused,
            concurrency_limit=body.concurrency_limit,
            storage_configuration=body.storage_configuration.model_dump(mode="json"),
        )
        if pool_id is None:
            raise Conflict(f'A work pool named "{body.name}" already exists.')
        return read_pools(conn, WP.c.id == pool_id)[0]

    return await db.write(job)


async def update_work_pool(db: Database, name: str, changes: dict[str, Any]) -> None:
    def job(conn: sa.Connection) -> None:
        done = conn.execute(
            WP.update().where(WP.c.name == name).values(**changes, updated=utcnow())
        )
        if done.rowcount == 0:
            raise pool_not_found(name)

    await db.write(job)


async def delete_work_pool(db: Database, name: str) -> None:
    """Its queues and workers go with it; deployments keep their queue's name, their
    work_queue_id becomes null (foreign keys); past runs keep their pool and queue ids."""

    def job(conn: sa.Connection) -> None:
        if conn.execute(WP.delete().where(WP.c.name == name)).rowcount == 0:
            raise pool_not_found(name)

    await db.write(job)


# --- the worker channel -----------------------------------------------------------------


@dataclass(frozen=True)
class WorkerSession:
    """What a worker's hello established: its row, its pool and the queues it serves."""

    worker_id: uuid.UUID
    pool_id: uuid.UUID
    pool: dict[str, Any]
    queues: list[dict[str, Any]]


async def connect_worker(db: Database, pool_name: str, hello: WorkerHello) -> WorkerSession:
    """A worker's hello: counts as its first heartbeat. Creates the pool (type and template
    from the hello) when it does not exist and the worker asks for that; else NotFound."""

    def job(conn: sa.Connection) -> WorkerSession:
        now = utcnow()
        pool_id = conn.scalar(sa.select(WP.c.id).where(WP.c.name == pool_name))
        if pool_id is None:
            if not hello.create_pool_if_not_found:
                raise pool_not_found(pool_name)
            if problem := pool_name_problem(pool_name):
                raise InvalidInput(f"Cannot create work pool {pool_name!r}: {problem}.", "path")
            insert_pool(conn, pool_name, hello.worker_type, hello.default_base_job_template, now)
            pool_id = conn.scalar(sa.select(WP.c.id).where(WP.c.name == pool_name))
            assert pool_id is not None  # inserted just now, or by a concurrent hello
        worker_id = upsert_worker(
            conn, pool_id, hello.worker_name, hello.heartbeat_interval_seconds, now
        )
        queues = sa.select(WQ.c.id, WQ.c.name).where(WQ.c.work_pool_id == pool_id)
        if hello.work_queue_names:
            queues = queues.where(WQ.c.name.in_(hello.work_queue_names))
        resolved = [
            {"id": q.id, "name": q.name}
            for q in conn.execute(queues.order_by(WQ.c.priority, WQ.c.name))
        ]
        pool = read_pools(conn, WP.c.id == pool_id)[0]
        return WorkerSession(worker_id, pool_id, pool, resolved)

    return await db.write(job)


# --- worker types -----------------------------------------------------------------------


def _nullable(kind: dict[str, Any]) -> list[dict[str, Any]]:
    return [kind, {"type": "null"}]


# Baton's own job template for process pools: each {{ placeholder }} is filled by the
# worker from the variable of that name (deployment job variables override the defaults).
PROCESS_JOB_TEMPLATE: dict[str, Any] = {
    "job_configuration": {
        "command": "{{ command }}",
        "env": "{{ env }}",
        "labels": "{{ labels }}",
        "name": "{{ name }}",
        "stream_output": "{{ stream_output }}",
        "working_dir": "{{ working_dir }}",
    },
    "variables": {
        "type": "object",
        "properties": {
            "name": {
                "title": "Name",
                "description": "A name for the process, shown in the worker's logs.",
                "anyOf": _nullable({"type": "string"}),
                "default": None,
            },
            "env": {
                "title": "Environment variables",
                "description": "Variables added to the environment of each run's process.",
                "type": "object",
                "additionalProperties": {"anyOf": _nullable({"type": "string"})},
            },
            "labels": {
                "title": "Labels",
                "description": "Labels given to each run's process.",
                "type": "object",
                "additionalProperties": {"type": "string"},
            },
            "command": {
                "title": "Command",
                "description": "What each run's process executes; empty for the worker's own.",
                "anyOf": _nullable({"type": "string"}),
                "default": None,
            },
            "stream_output": {
                "title": "Stream output",
                "description": "Whether the worker relays each process's output.",
                "type": "boolean",
                "default": True,
            },
            "working_dir": {
                "title": "Working directory",
                "description": "Where each process starts; a fresh temporary folder if empty.",
                "anyOf": _nullable({"type": "string", "format": "path"}),
                "default": None,
            },
        },
    },
}


def worker_types() -> dict[str, dict[str, dict[str, Any]]]:
    """The worker types Baton describes, by collection then type (the shape the CLI reads
    from /collections/views/aggregate-worker-metadata)."""
    return {
        "process": {
            "process": {
                "type": "process",
                "display_name": "Process",
                "description": "Runs each flow run in a subprocess on the worker's own machine.",
                "documentation_url": None,
                "install_command": "pip install prefect",
                "is_beta": False,
                "logo_url": None,
                "default_base_job_configuration": PROCESS_JOB_TEMPLATE,
            }
        }
    }
