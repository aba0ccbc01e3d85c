"""Artifacts, and the per-key collection that points at each key's latest artifact.

"Latest" means greatest (created, id). Creating, deleting and reading keep to that order,
so `latest/filter`, `{key}/latest` and a delete of the latest artifact agree.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa

from baton.clock import utcnow, uuid7
from baton.core import filters
from baton.db import tables as t
from baton.db.database import Database
from baton.db.dialect import insert
from baton.errors import NotFound
from baton.schemas.artifacts import (
    ArtifactCollectionFilter,
    ArtifactFilter,
    ArtifactKeyFilter,
    ArtifactSort,
)
from baton.schemas.filters import DEFAULT_LIMIT, FlowRunFilter, TaskRunFilter, TextFilter

NOT_FOUND = "Artifact not found."

a = t.artifact.c
ac = t.artifact_collection.c

_COLUMNS = (
    a.id,
    a.created,
    a.updated,
    a.key,
    a.type,
    a.description,
    a.data,
    a.metadata_,
    a.flow_run_id,
    a.task_run_id,
)

# A collection is its own row (id, created, updated, key, latest_id) plus the fields of the
# artifact it points at, read through the join rather than copied.
_COLLECTION_COLUMNS = (
    ac.id,
    ac.created,
    ac.updated,
    ac.key,
    ac.latest_id,
    a.type,
    a.description,
    a.data,
    a.metadata_,
    a.flow_run_id,
    a.task_run_id,
)
_COLLECTIONS = t.artifact_collection.join(t.artifact, a.id == ac.latest_id)

_SORTS: dict[ArtifactSort, tuple[sa.ColumnElement[object], ...]] = {
    ArtifactSort.CREATED_DESC: (a.created.desc(), a.id.desc()),
    ArtifactSort.UPDATED_DESC: (a.updated.desc(), a.id.desc()),
    ArtifactSort.ID_DESC: (a.id.desc(),),
    ArtifactSort.KEY_DESC: (a.key.desc().nulls_last(), a.created.desc(), a.id.desc()),
    ArtifactSort.KEY_ASC: (a.key.asc().nulls_last(), a.created.desc(), a.id.desc()),
}

_COLLECTION_SORTS: dict[ArtifactSort, tuple[sa.ColumnElement[object], ...]] = {
    ArtifactSort.CREATED_DESC: (ac.created.desc(), ac.id.desc()),
    ArtifactSort.UPDATED_DESC: (ac.updated.desc(), ac.id.desc()),
    ArtifactSort.ID_DESC: (ac.id.desc(),),
    ArtifactSort.KEY_DESC: (ac.key.desc(),),
    ArtifactSort.KEY_ASC: (ac.key.asc(),),
}


async def create_artifact(db: Database, fields: dict[str, Any]) -> dict[str, Any]:
    """Store an artifact; if it has a key, it becomes that key's latest."""

    def job(conn: sa.Connection) -> dict[str, Any]:
        now = utcnow()
        artifact_id = uuid7()
        stmt = (
            sa.insert(t.artifact)
            .values(**fields, id=artifact_id, created=now, updated=now)
            .returning(*_COLUMNS)
        )
        artifact = dict((conn.execute(stmt)).mappings().one())
        key = fields.get("key")
        if key is not None:
            # Two creates racing on PostgreSQL may commit out of (created, id) order: move
            # the pointer only if the current latest is not newer than this artifact.
            newer = sa.select(a.id).where(
                a.key == key,
                sa.or_(a.created > now, sa.and_(a.created == now, a.id > artifact_id)),
            )
            upsert = insert(conn, t.artifact_collection).values(
                id=uuid7(), created=now, updated=now, key=key, latest_id=artifact_id
            )
            upsert = upsert.on_conflict_do_update(
                index_elements=["key"],
                set_={"latest_id": artifact_id, "updated": now},
                where=ac.latest_id.not_in(newer),
            )
            conn.execute(upsert)
        return artifact

    return await db.write(job)


async def read_artifact(db: Database, artifact_id: uuid.UUID) -> dict[str, Any]:
    async with db.read() as conn:
        stmt = sa.select(*_COLUMNS).where(a.id == artifact_id)
        row = (await conn.execute(stmt)).mappings().first()
    if row is None:
        raise NotFound(NOT_FOUND)
    return dict(row)


async def read_latest_artifact(db: Database, key: str) -> dict[str, Any]:
    async with db.read() as conn:
        stmt = sa.select(*_COLUMNS).select_from(_COLLECTIONS).where(ac.key == key)
        row = (await conn.execute(stmt)).mappings().first()
    if row is None:
        raise NotFound(f"No artifact with the key {key!r}.")
    return dict(row)


async def update_artifact(db: Database, artifact_id: uuid.UUID, changes: dict[str, Any]) -> None:
    def job(conn: sa.Connection) -> bool:
        now = utcnow()
        stmt = sa.update(t.artifact).where(a.id == artifact_id).values(**changes, updated=now)
        if (conn.execute(stmt.returning(a.id))).first() is None:
            return False
        # The collection shows the latest artifact's fields, so its `updated` follows them.
        conn.execute(
            sa.update(t.artifact_collection).where(ac.latest_id == artifact_id).values(updated=now)
        )
        return True

    if not await db.write(job):
        raise NotFound(NOT_FOUND)


async def delete_artifact(db: Database, artifact_id: uuid.UUID) -> None:
    """Delete an artifact; its key's collection moves to the next latest, or goes."""

    def job(conn: sa.Connection) -> bool:
        return delete_artifacts(conn, a.id == artifact_id) > 0

    if not await db.write(job):
        raise NotFound(NOT_FOUND)


def delete_artifacts(conn: sa.Connection, where: sa.ColumnElement[bool]) -> int:
    """Inside a write job: delete the artifacts matching `where`; each key whose latest
    artifact went points at its next latest, or its collection goes. Returns how many."""
    deleted = conn.execute(sa.delete(t.artifact).where(where).returning(a.id, a.key)).all()
    gone = {row.id for row in deleted}
    for key in sorted({row.key for row in deleted if row.key is not None}):
        # Lock the collection row (PostgreSQL) so a concurrent create of this key waits for
        # us, and the next latest we pick below includes whatever committed before it.
        lock = sa.select(ac.latest_id).where(ac.key == key).with_for_update()
        latest_id = (conn.execute(lock)).scalar_one_or_none()
        if latest_id not in gone:
            continue  # an older artifact, or already repointed: the collection stands
        next_latest = (
            conn.execute(
                sa.select(a.id)
                .where(a.key == key)
                .order_by(*_SORTS[ArtifactSort.CREATED_DESC])
                .limit(1)
            )
        ).scalar_one_or_none()
        if next_latest is None:
            conn.execute(sa.delete(t.artifact_collection).where(ac.key == key))
        else:
            conn.execute(
                sa.update(t.artifact_collection)
                .where(ac.key == key)
                .values(latest_id=next_latest, updated=utcnow())
            )
    return len(deleted)


def _key_clauses(col: sa.ColumnElement[str], flt: ArtifactKeyFilter | None) -> list[filters.Clause]:
    if flt is None:
        return []
    out = filters.text(col, TextFilter(any_=flt.any_, like_=flt.like_))
    if flt.exists_ is not None:
        out.append(col.is_not(None) if flt.exists_ else col.is_(None))
    return out


def _run_clauses(
    flow_runs: FlowRunFilter | None, task_runs: TaskRunFilter | None
) -> list[filters.Clause]:
    """Only the runs' `id.any_` applies: an artifact may name a task run not yet recorded."""
    out: list[filters.Clause] = []
    if flow_runs is not None and flow_runs.id is not None and flow_runs.id.any_ is not None:
        out.append(a.flow_run_id.in_(flow_runs.id.any_))
    if task_runs is not None and task_runs.id is not None and task_runs.id.any_ is not None:
        out.append(a.task_run_id.in_(task_runs.id.any_))
    return out


def _field_clauses(
    flt: ArtifactFilter | ArtifactCollectionFilter, key: sa.ColumnElement[str]
) -> list[filters.Clause]:
    return [
        *_key_clauses(key, flt.key),
        *filters.ids(a.flow_run_id, flt.flow_run_id),
        *filters.ids(a.task_run_id, flt.task_run_id),
        *filters.text(a.type, flt.type),
    ]


def _artifact_where(
    flt: ArtifactFilter | None, flow_runs: FlowRunFilter | None, task_runs: TaskRunFilter | None
) -> list[filters.Clause]:
    out = _run_clauses(flow_runs, task_runs)
    if flt is not None:
        out.append(
            filters.combine(flt.operator, [*filters.ids(a.id, flt.id), *_field_clauses(flt, a.key)])
        )
    return out


def _collection_where(
    flt: ArtifactCollectionFilter | None,
    flow_runs: FlowRunFilter | None,
    task_runs: TaskRunFilter | None,
) -> list[filters.Clause]:
    out = _run_clauses(flow_runs, task_runs)
    if flt is not None:
        clauses = [*filters.ids(ac.latest_id, flt.latest_id), *_field_clauses(flt, ac.key)]
        out.append(filters.combine(flt.operator, clauses))
    return out


async def filter_artifacts(
    db: Database,
    flt: ArtifactFilter | None,
    flow_runs: FlowRunFilter | None = None,
    task_runs: TaskRunFilter | None = None,
    sort: ArtifactSort | None = None,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
) -> list[dict[str, Any]]:
    stmt = (
        sa.select(*_COLUMNS)
        .where(*_artifact_where(flt, flow_runs, task_runs))
        .order_by(*_SORTS[sort or ArtifactSort.CREATED_DESC])
        .limit(limit)
        .offset(offset)
    )
    async with db.read() as conn:
        rows = (await conn.execute(stmt)).mappings().all()
    return [dict(row) for row in rows]


async def count_artifacts(
    db: Database,
    flt: ArtifactFilter | None,
    flow_runs: FlowRunFilter | None = None,
    task_runs: TaskRunFilter | None = None,
) -> int:
    stmt = (
        sa.select(sa.func.count())
        .select_from(t.artifact)
        .where(*_artifact_where(flt, flow_runs, task_runs))
    )
    async with db.read() as conn:
        return int((await conn.execute(stmt)).scalar_one())


async def filter_collections(
    db: Database,
    flt: ArtifactCollectionFilter | None,
    flow_runs: FlowRunFilter | None = None,
    task_runs: TaskRunFilter | None = None,
    sort: ArtifactSort | None = None,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
) -> list[dict[str, Any]]:
    stmt = (
        sa.select(*_COLLECTION_COLUMNS)
        .select_from(_COLLECTIONS)
        .where(*_collection_where(flt, flow_runs, task_runs))
        .order_by(*_COLLECTION_SORTS[sort or ArtifactSort.CREATED_DESC])
        .limit(limit)
        .offset(offset)
    )
    async with db.read() as conn:
        rows = (await conn.execute(stmt)).mappings().all()
    return [dict(row) for row in rows]


async def count_collections(
    db: Database,
    flt: ArtifactCollectionFilter | None,
    flow_runs: FlowRunFilter | None = None,
    task_runs: TaskRunFilter | None = None,
) -> int:
    stmt = (
        sa.select(sa.func.count())
        .select_from(_COLLECTIONS)
        .where(*_collection_where(flt, flow_runs, task_runs))
    )
    async with db.read() as conn:
        return int((await conn.execute(stmt)).scalar_one())
