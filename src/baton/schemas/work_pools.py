"""Work pools, their queues and their workers on the wire, and the frames of the worker
channel websocket (`/api/work_pools/{name}/workers/connect`)."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, StringConstraints

from baton.schemas.base import Request
from baton.schemas.filters import IdFilter, Operator, Page
from baton.schemas.filters import WorkPoolFilter as RunWorkPoolFilter
from baton.schemas.logs import utc

MAX_INT = 2**31 - 1  # the INTEGER columns of both dialects
# Characters that would break the URLs the client builds from a pool or queue name.
FORBIDDEN_IN_NAMES = "/%&<>"
RESERVED_POOL_PREFIX = "prefect"


def name_problem(name: str) -> str | None:
    """Why `name` cannot name a pool or a queue, or None when it can."""
    if not name.strip("'\" "):
        return "name must not be empty"
    bad = sorted({c for c in name if c in FORBIDDEN_IN_NAMES})
    if bad:
        return f"name must not contain {' '.join(bad)}"
    return None


def pool_name_problem(name: str) -> str | None:
    """Why a new pool cannot be called `name`: the rules of any name, and the prefix the
    reference server keeps for its own pools."""
    if problem := name_problem(name):
        return problem
    if name.lower().startswith(RESERVED_POOL_PREFIX):
        return f"names starting with {RESERVED_POOL_PREFIX!r} are reserved"
    return None


def _valid_name(value: str) -> str:
    if problem := name_problem(value):
        raise ValueError(problem)
    return value


def _valid_pool_name(value: str) -> str:
    if problem := pool_name_problem(value):
        raise ValueError(problem)
    return value


def _utc(value: dt.datetime) -> dt.datetime:
    return utc(value)


def _job_template(value: dict[str, Any]) -> dict[str, Any]:
    """An empty template, or one with `job_configuration` and `variables` objects."""
    if not value:
        return value
    for key in ("job_configuration", "variables"):
        if not isinstance(value.get(key), dict):
            raise ValueError(f"a base job template needs a {key!r} object")
    properties = value["variables"].get("properties", {})
    if not isinstance(properties, dict):
        raise ValueError("'variables.properties' must be an object")
    return value


Text = Annotated[str, StringConstraints(max_length=255)]
NonEmptyText = Annotated[str, StringConstraints(min_length=1, max_length=255)]
QueueName = Annotated[str, StringConstraints(max_length=255), AfterValidator(_valid_name)]
PoolName = Annotated[str, StringConstraints(max_length=255), AfterValidator(_valid_pool_name)]
Limit = Annotated[int, Field(ge=0, le=MAX_INT)]
Priority = Annotated[int, Field(ge=1, le=MAX_INT)]
Seconds = Annotated[int, Field(ge=1, le=MAX_INT)]
UtcTime = Annotated[dt.datetime, AfterValidator(_utc)]
JobTemplate = Annotated[dict[str, Any], AfterValidator(_job_template)]


# --- pools ------------------------------------------------------------------------------


class StorageConfiguration(Request):
    bundle_upload_step: dict[str, Any] | None = None
    bundle_execution_step: dict[str, Any] | None = None
    default_result_storage_block_id: uuid.UUID | None = None


class WorkPoolCreate(Request):
    name: PoolName
    description: str | None = None
    type: NonEmptyText = "prefect-agent"  # the client's own default
    base_job_template: JobTemplate = Field(default_factory=dict)
    is_paused: bool = False
    concurrency_limit: Limit | None = None
    storage_configuration: StorageConfiguration = Field(default_factory=StorageConfiguration)


class WorkPoolUpdate(Request):
    """A PATCH: only the fields sent change. A null `is_paused`, `base_job_template` or
    `storage_configuration` leaves it as it is; a null `concurrency_limit` removes the limit."""

    description: str | None = None
    is_paused: bool | None = None
    base_job_template: JobTemplate | None = None
    concurrency_limit: Limit | None = None
    storage_configuration: StorageConfiguration | None = None

    def changes(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in self.model_fields_set:
            value = getattr(self, name)
            if value is None and name in {
                "is_paused",
                "base_job_template",
                "storage_configuration",
            }:
                continue
            if isinstance(value, StorageConfiguration):
                value = value.model_dump(mode="json")
            out[name] = value
        return out


class PoolTypeFilter(Request):
    any_: list[str] | None = None


class WorkPoolFilter(RunWorkPoolFilter):
    type: PoolTypeFilter | None = None


class WorkPoolCountBody(Request):
    work_pools: WorkPoolFilter | None = None


class WorkPoolFilterBody(WorkPoolCountBody, Page):
    pass


# --- queues -----------------------------------------------------------------------------


class WorkQueueCreate(Request):
    name: QueueName
    description: str | None = None
    is_paused: bool = False
    concurrency_limit: Limit | None = None
    priority: Priority | None = None  # None: after the pool's other queues


class WorkQueueUpdate(Request):
    """A PATCH: only the fields sent change. A null `name`, `is_paused` or `priority` leaves
    it as it is; a null `concurrency_limit` removes the limit."""

    name: QueueName | None = None
    description: str | None = None
    is_paused: bool | None = None
    concurrency_limit: Limit | None = None
    priority: Priority | None = None
    last_polled: UtcTime | None = None

    def changes(self) -> dict[str, Any]:
        keep_if_null = {"name", "is_paused", "priority", "last_polled"}
        return {
            name: getattr(self, name)
            for name in self.model_fields_set
            if getattr(self, name) is not None or name not in keep_if_null
        }


class QueueNameFilter(Request):
    """The client's shape: `startswith_` is a list of prefixes (case-insensitive)."""

    any_: list[str] | None = None
    startswith_: list[str] | None = None


class WorkQueueFilter(Request):
    operator: Operator = "and_"
    id: IdFilter | None = None
    name: QueueNameFilter | None = None


class WorkQueueFilterBody(Page):
    work_queues: WorkQueueFilter | None = None


# --- workers ----------------------------------------------------------------------------


class WorkerStatus(StrEnum):
    ONLINE = "ONLINE"
    OFFLINE = "OFFLINE"


class WorkerHeartbeat(Request):
    name: NonEmptyText
    heartbeat_interval_seconds: Seconds | None = None
    # Answer 200 with the worker's id as plain text instead of 204 (the client reads it so).
    return_id: bool = False


class HeartbeatTimeFilter(Request):
    before_: UtcTime | None = None
    after_: UtcTime | None = None


class WorkerStatusFilter(Request):
    any_: list[WorkerStatus] | None = None
    not_any_: list[WorkerStatus] | None = None


class WorkerFilter(Request):
    operator: Operator = "and_"
    last_heartbeat_time: HeartbeatTimeFilter | None = None
    status: WorkerStatusFilter | None = None


class WorkerFilterBody(Page):
    workers: WorkerFilter | None = None


# --- the worker channel -----------------------------------------------------------------


class ChannelFrame(Request):
    """Every application frame: `{type, id, sent_at, payload}`."""

    type: NonEmptyText
    id: uuid.UUID
    sent_at: dt.datetime
    payload: dict[str, Any]


class WorkerHello(Request):
    consumer_id: uuid.UUID
    worker_name: NonEmptyText
    worker_type: NonEmptyText
    heartbeat_interval_seconds: Seconds
    supported_channel_versions: Annotated[list[str], Field(min_length=1)]
    requested_capabilities: Annotated[list[str], Field(min_length=1)]
    work_queue_names: list[NonEmptyText] = Field(default_factory=list)
    handled_cleanup_kinds: list[str] = Field(default_factory=list)
    max_cleanup_concurrency: Annotated[int, Field(ge=0)] = 0
    create_pool_if_not_found: bool = False
    default_base_job_template: JobTemplate = Field(default_factory=dict)
    worker_metadata: dict[str, Any] | None = None


class WorkerChannelHeartbeat(Request):
    consumer_id: uuid.UUID
    worker_name: NonEmptyText
    heartbeat_interval_seconds: Seconds


HELLO: Literal["worker.hello.v1"] = "worker.hello.v1"
READY: Literal["worker.ready.v1"] = "worker.ready.v1"
HEARTBEAT: Literal["worker.heartbeat.v1"] = "worker.heartbeat.v1"
