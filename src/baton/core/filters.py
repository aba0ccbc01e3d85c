"""Filter bodies → SQL. One builder per field kind; object filters combine them with their
operator; a run query joins the object filters it names through sub-selects (no joins that
multiply rows, so LIMIT/OFFSET stay exact)."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.sql.elements import ColumnElement

from baton.db import tables as t
from baton.schemas import filters as f

Clause = ColumnElement[bool]


def combine(operator: str, clauses: Sequence[Clause]) -> Clause:
    if not clauses:
        return sa.true()
    return sa.or_(*clauses) if operator == "or_" else sa.and_(*clauses)


def ids(col: sa.ColumnElement[object], flt: f.IdFilter | None) -> list[Clause]:
    out: list[Clause] = []
    if flt is None:
        return out
    if flt.any_ is not None:
        out.append(col.in_(flt.any_))
    if flt.not_any_ is not None:
        out.append(col.not_in(flt.not_any_))
    return out


def nullable_ids(col: sa.ColumnElement[object], flt: f.NullableIdFilter | None) -> list[Clause]:
    if flt is None:
        return []
    out: list[Clause] = []
    if flt.any_ is not None:
        out.append(col.in_(flt.any_))
    if flt.is_null_ is not None:
        out.append(col.is_(None) if flt.is_null_ else col.is_not(None))
    return [combine(flt.operator, out)] if out else []


def text(col: sa.ColumnElement[str], flt: f.TextFilter | None) -> list[Clause]:
    out: list[Clause] = []
    if flt is None:
        return out
    if flt.any_ is not None:
        out.append(col.in_(flt.any_))
    if flt.not_any_ is not None:
        out.append(col.not_in(flt.not_any_))
    if flt.like_ is not None:
        out.append(col.icontains(flt.like_, autoescape=True))
    if flt.startswith_ is not None:
        out.append(col.istartswith(flt.startswith_, autoescape=True))
    if flt.is_null_ is not None:
        out.append(col.is_(None) if flt.is_null_ else col.is_not(None))
    return out


def times(col: sa.ColumnElement[object], flt: f.TimeFilter | None) -> list[Clause]:
    out: list[Clause] = []
    if flt is None:
        return out
    if flt.before_ is not None:
        out.append(col <= flt.before_)
    if flt.after_ is not None:
        out.append(col >= flt.after_)
    if flt.is_null_ is not None:
        out.append(col.is_(None) if flt.is_null_ else col.is_not(None))
    return out


def has_tag(col: sa.ColumnElement[object], tag: str, dialect: str) -> Clause:
    if dialect == "postgresql":
        return sa.type_coerce(col, JSONB).contains([tag])
    each = sa.func.json_each(col).table_valued("value").alias()
    return sa.exists(sa.select(sa.literal(1)).select_from(each).where(each.c.value == tag))


def tags(col: sa.ColumnElement[object], flt: f.TagsFilter | None, dialect: str) -> list[Clause]:
    if flt is None:
        return []
    out: list[Clause] = []
    if flt.all_:
        out.append(sa.and_(*(has_tag(col, tag, dialect) for tag in flt.all_)))
    if flt.any_:
        out.append(sa.or_(*(has_tag(col, tag, dialect) for tag in flt.any_)))
    if flt.is_null_ is not None:
        length = (
            sa.func.jsonb_array_length if dialect == "postgresql" else sa.func.json_array_length
        )
        empty = length(col) == 0
        out.append(empty if flt.is_null_ else sa.not_(empty))
    return [combine(flt.operator, out)] if out else []


def state(
    type_col: sa.ColumnElement[object], name_col: sa.ColumnElement[str], flt: f.StateFilter | None
) -> list[Clause]:
    if flt is None:
        return []
    out: list[Clause] = []
    if flt.type is not None:
        if flt.type.any_ is not None:
            out.append(type_col.in_([s.value for s in flt.type.any_]))
        if flt.type.not_any_ is not None:
            out.append(
                sa.or_(type_col.is_(None), type_col.not_in([s.value for s in flt.type.not_any_]))
            )
    if flt.name is not None:
        if flt.name.any_ is not None:
            out.append(name_col.in_(flt.name.any_))
        if flt.name.not_any_ is not None:
            out.append(sa.or_(name_col.is_(None), name_col.not_in(flt.name.not_any_)))
    return [combine(flt.operator, out)] if out else []


def flow_clause(flt: f.FlowFilter, dialect: str) -> Clause:
    c = t.flow.c
    return combine(
        flt.operator,
        [*ids(c.id, flt.id), *text(c.name, flt.name), *tags(c.tags, flt.tags, dialect)],
    )


def flow_run_clause(flt: f.FlowRunFilter, dialect: str) -> Clause:
    c = t.flow_run.c
    clauses = [
        *ids(c.id, flt.id),
        *text(c.name, flt.name),
        *tags(c.tags, flt.tags, dialect),
        *nullable_ids(c.deployment_id, flt.deployment_id),
        *text(c.work_queue_name, flt.work_queue_name),
        *state(c.state_type, c.state_name, flt.state),
        *text(c.flow_version, flt.flow_version),
        *times(c.start_time, flt.start_time),
        *times(c.end_time, flt.end_time),
        *times(c.expected_start_time, flt.expected_start_time),
        *times(c.next_scheduled_start_time, flt.next_scheduled_start_time),
        *nullable_ids(c.parent_task_run_id, flt.parent_task_run_id),
        *text(c.idempotency_key, flt.idempotency_key),
    ]
    if flt.parent_flow_run_id is not None:
        parents = sa.select(t.task_run.c.id).where(
            *nullable_ids(t.task_run.c.flow_run_id, flt.parent_flow_run_id)
        )
        clauses.append(c.parent_task_run_id.in_(parents))
    return combine(flt.operator, clauses)


def task_run_clause(flt: f.TaskRunFilter, dialect: str) -> Clause:
    c = t.task_run.c
    clauses = [
        *ids(c.id, flt.id),
        *text(c.name, flt.name),
        *tags(c.tags, flt.tags, dialect),
        *state(c.state_type, c.state_name, flt.state),
        *times(c.start_time, flt.start_time),
        *times(c.expected_start_time, flt.expected_start_time),
        *nullable_ids(c.flow_run_id, flt.flow_run_id),
    ]
    if flt.subflow_runs is not None and flt.subflow_runs.exists_ is not None:
        child = sa.exists().where(t.flow_run.c.parent_task_run_id == c.id)
        clauses.append(child if flt.subflow_runs.exists_ else sa.not_(child))
    return combine(flt.operator, clauses)


def deployment_clause(flt: f.DeploymentFilter, dialect: str) -> Clause:
    c = t.deployment.c
    clauses = [
        *ids(c.id, flt.id),
        *text(c.name, flt.name),
        *tags(c.tags, flt.tags, dialect),
        *text(c.work_queue_name, flt.work_queue_name),
        *ids(c.work_queue_id, flt.work_queue_id),
    ]
    if flt.paused is not None and flt.paused.eq_ is not None:
        clauses.append(c.paused.is_(flt.paused.eq_))
    if flt.flow_or_deployment_name is not None and flt.flow_or_deployment_name.like_:
        like = flt.flow_or_deployment_name.like_
        flows = sa.select(t.flow.c.id).where(t.flow.c.name.icontains(like, autoescape=True))
        clauses.append(sa.or_(c.name.icontains(like, autoescape=True), c.flow_id.in_(flows)))
    return combine(flt.operator, clauses)


def work_pool_clause(flt: f.WorkPoolFilter) -> Clause:
    c = t.work_pool.c
    return combine(flt.operator, [*ids(c.id, flt.id), *text(c.name, flt.name)])


def work_queue_clause(flt: f.WorkQueueFilter) -> Clause:
    c = t.work_queue.c
    return combine(flt.operator, [*ids(c.id, flt.id), *text(c.name, flt.name)])


def _only_ids(flt: f.DeploymentFilter) -> bool:
    return flt.model_fields_set <= {"id", "operator"}


def _run_context(query: f.RunQuery, dialect: str) -> list[Clause]:
    """Clauses on flow_run for the deployment, pool and queue filters of a query."""
    c = t.flow_run.c
    out: list[Clause] = []
    if query.deployments is not None:
        if _only_ids(query.deployments):
            out += ids(c.deployment_id, query.deployments.id)
        else:
            matching = sa.select(t.deployment.c.id).where(
                deployment_clause(query.deployments, dialect)
            )
            out.append(c.deployment_id.in_(matching))
    if query.work_pools is not None:
        out += [
            *ids(c.work_pool_id, query.work_pools.id),
            *text(c.work_pool_name, query.work_pools.name),
        ]
    if query.work_pool_queues is not None:
        q = query.work_pool_queues
        out += [*ids(c.work_queue_id, q.id), *text(c.work_queue_name, q.name)]
    return out


def flow_run_where(query: f.RunQuery, dialect: str) -> list[Clause]:
    """WHERE clauses for a query over flow_run."""
    c = t.flow_run.c
    out = _run_context(query, dialect)
    if query.flow_runs is not None:
        out.append(flow_run_clause(query.flow_runs, dialect))
    if query.flows is not None:
        out.append(c.flow_id.in_(sa.select(t.flow.c.id).where(flow_clause(query.flows, dialect))))
    if query.task_runs is not None:
        out.append(
            sa.exists().where(
                t.task_run.c.flow_run_id == c.id, task_run_clause(query.task_runs, dialect)
            )
        )
    return out


def task_run_where(query: f.RunQuery, dialect: str) -> list[Clause]:
    """WHERE clauses for a query over task_run."""
    c = t.task_run.c
    out: list[Clause] = []
    if query.task_runs is not None:
        out.append(task_run_clause(query.task_runs, dialect))
    run_clauses = _run_context(query, dialect)
    if query.flow_runs is not None:
        run_clauses.append(flow_run_clause(query.flow_runs, dialect))
    if query.flows is not None:
        run_clauses.append(
            t.flow_run.c.flow_id.in_(
                sa.select(t.flow.c.id).where(flow_clause(query.flows, dialect))
            )
        )
    if run_clauses:
        out.append(c.flow_run_id.in_(sa.select(t.flow_run.c.id).where(*run_clauses)))
    return out


def flow_where(query: f.RunQuery, flows: f.FlowFilter | None, dialect: str) -> list[Clause]:
    """WHERE clauses for a query over flow."""
    out: list[Clause] = []
    if flows is not None:
        out.append(flow_clause(flows, dialect))
    if query.deployments is not None:  # flows that have a matching deployment
        matching = sa.select(t.deployment.c.flow_id).where(
            deployment_clause(query.deployments, dialect)
        )
        out.append(t.flow.c.id.in_(matching))
    runs = f.RunQuery(
        flow_runs=query.flow_runs,
        task_runs=query.task_runs,
        work_pools=query.work_pools,
        work_pool_queues=query.work_pool_queues,
    )
    run_clauses = flow_run_where(runs, dialect)
    if run_clauses:
        out.append(t.flow.c.id.in_(sa.select(t.flow_run.c.flow_id).where(*run_clauses)))
    return out


def deployment_where(query: f.RunQuery, dialect: str) -> list[Clause]:
    """WHERE clauses for a query over deployment."""
    c = t.deployment.c
    out: list[Clause] = []
    if query.deployments is not None:
        out.append(deployment_clause(query.deployments, dialect))
    if query.flows is not None:
        out.append(c.flow_id.in_(sa.select(t.flow.c.id).where(flow_clause(query.flows, dialect))))
    if query.flow_runs is not None or query.task_runs is not None:
        runs = f.RunQuery(flow_runs=query.flow_runs, task_runs=query.task_runs)
        matching = sa.select(t.flow_run.c.deployment_id).where(*flow_run_where(runs, dialect))
        out.append(c.id.in_(matching))
    if query.work_pools is not None:
        pools = sa.select(t.work_pool.c.id).where(work_pool_clause(query.work_pools))
        queues = sa.select(t.work_queue.c.id).where(t.work_queue.c.work_pool_id.in_(pools))
        out.append(c.work_queue_id.in_(queues))
    if query.work_pool_queues is not None:
        queues = sa.select(t.work_queue.c.id).where(work_queue_clause(query.work_pool_queues))
        out.append(c.work_queue_id.in_(queues))
    return out


_DEPLOYMENT_SORTS = {
    "CREATED_DESC": (t.deployment.c.created.desc(), t.deployment.c.id),
    "UPDATED_DESC": (t.deployment.c.updated.desc(), t.deployment.c.id),
    "NAME_ASC": (t.deployment.c.name.asc(), t.deployment.c.id),
    "NAME_DESC": (t.deployment.c.name.desc(), t.deployment.c.id),
}


def deployment_order(sort: str | None) -> tuple[sa.ColumnElement[object], ...]:
    return _DEPLOYMENT_SORTS[sort or "NAME_ASC"]


def _run_order(table: sa.Table, sort: str) -> tuple[sa.ColumnElement[object], ...]:
    """ORDER BY for a run sort named FIELD_ASC or FIELD_DESC, ties broken by id."""
    c = table.c
    field, direction = sort.rsplit("_", 1)
    if field == "ID":
        return (c.id.desc(),)
    column = c.total_run_time if field == "DURATION" else c[field.lower()]
    ordered = column.asc() if direction == "ASC" else column.desc()
    if field in ("START_TIME", "END_TIME"):  # runs that have not started or ended go last
        ordered = ordered.nulls_last()
    return (ordered, c.id)


_FLOW_SORTS: dict[f.FlowSort, tuple[sa.ColumnElement[object], ...]] = {
    f.FlowSort.CREATED_DESC: (t.flow.c.created.desc(), t.flow.c.id),
    f.FlowSort.UPDATED_DESC: (t.flow.c.updated.desc(), t.flow.c.id),
    f.FlowSort.NAME_ASC: (t.flow.c.name.asc(),),
    f.FlowSort.NAME_DESC: (t.flow.c.name.desc(),),
}


def flow_run_order(sort: f.FlowRunSort | None) -> tuple[sa.ColumnElement[object], ...]:
    return _run_order(t.flow_run, sort or f.FlowRunSort.ID_DESC)


def task_run_order(sort: f.TaskRunSort | None) -> tuple[sa.ColumnElement[object], ...]:
    return _run_order(t.task_run, sort or f.TaskRunSort.ID_DESC)


def flow_order(sort: f.FlowSort | None) -> tuple[sa.ColumnElement[object], ...]:
    return _FLOW_SORTS[sort or f.FlowSort.NAME_ASC]
