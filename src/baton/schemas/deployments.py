"""Deployments and their schedules on the wire."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, Field, StringConstraints

from baton.orchestration.schedules import parse_schedule
from baton.schemas.base import Request, UtcDatetime
from baton.schemas.filters import Page, RunQuery
from baton.schemas.flows import Labels, Name
from baton.schemas.states import StateCreate

Text = Annotated[str, StringConstraints(max_length=255)]
JsonObject = dict[str, Any]


def _normalised_schedule(raw: JsonObject) -> JsonObject:
    # A ScheduleError is a ValueError: pydantic reports its message at body.…schedule.
    return parse_schedule(raw).to_wire()


Schedule = Annotated[JsonObject, AfterValidator(_normalised_schedule)]


# Catch-up looks back at most this far (seconds): 30 days.
MAX_CATCHUP_WINDOW = 30 * 86400.0
CatchupWindow = Annotated[float, Field(gt=0, le=MAX_CATCHUP_WINDOW)]


class ScheduleCreate(Request):
    schedule: Schedule
    active: bool = True
    max_scheduled_runs: Annotated[int, Field(gt=0)] | None = None
    parameters: JsonObject = Field(default_factory=dict)
    slug: Text | None = None
    # A Baton extension: create the runs missed in the last this-many seconds.
    catchup_window: CatchupWindow | None = None


class ScheduleUpdate(Request):
    """A PATCH of one schedule: only the fields sent change."""

    schedule: Schedule | None = None
    active: bool | None = None
    max_scheduled_runs: Annotated[int, Field(gt=0)] | None = None
    parameters: JsonObject | None = None
    slug: Text | None = None
    catchup_window: CatchupWindow | None = None


class DeploymentFields(Request):
    """What a create and an update may both set."""

    version: Text | None = None
    version_info: JsonObject | None = None
    description: str | None = None
    paused: bool = False
    schedules: list[ScheduleCreate] = Field(default_factory=list)
    concurrency_limit: Annotated[int, Field(ge=0)] | None = None
    concurrency_options: JsonObject | None = None
    parameters: JsonObject = Field(default_factory=dict)
    parameter_openapi_schema: JsonObject | None = None
    enforce_parameter_schema: bool = True
    tags: list[Text] = Field(default_factory=list)
    labels: Labels = Field(default_factory=dict)
    work_pool_name: Text | None = None
    work_queue_name: Text | None = None
    job_variables: JsonObject = Field(default_factory=dict)
    pull_steps: list[JsonObject] | None = None
    path: str | None = None
    entrypoint: str | None = None
    storage_document_id: uuid.UUID | None = None
    infrastructure_document_id: uuid.UUID | None = None


class DeploymentCreate(DeploymentFields):
    name: Name
    flow_id: uuid.UUID


class DeploymentUpdate(DeploymentFields):
    """A PATCH: only the fields sent are changed (see `model_fields_set`). Clients send
    explicit nulls for fields they have no value for; on a field that cannot be empty
    (`parameters`, `tags`, …) a null restores its default."""

    paused: bool | None = None  # type: ignore[assignment]
    schedules: list[ScheduleCreate] | None = None  # type: ignore[assignment]
    parameters: JsonObject | None = None  # type: ignore[assignment]
    enforce_parameter_schema: bool | None = None  # type: ignore[assignment]
    tags: list[Text] | None = None  # type: ignore[assignment]
    labels: Labels | None = None  # type: ignore[assignment]
    job_variables: JsonObject | None = None  # type: ignore[assignment]

    def changes(self) -> dict[str, Any]:
        """The sent fields, nulls replaced by the defaults of the fields that need a value."""
        defaults = DeploymentFields()
        out = {}
        for name in self.model_fields_set:
            value = getattr(self, name)
            out[name] = getattr(defaults, name) if value is None and name in _NOT_NULL else value
        return out


_NOT_NULL = {
    "paused",
    "schedules",
    "parameters",
    "enforce_parameter_schema",
    "tags",
    "labels",
    "job_variables",
}


class DeploymentSort(StrEnum):
    CREATED_DESC = "CREATED_DESC"
    UPDATED_DESC = "UPDATED_DESC"
    NAME_ASC = "NAME_ASC"
    NAME_DESC = "NAME_DESC"


class DeploymentQuery(RunQuery):
    """The filters a deployment query may combine (the same objects as a run query)."""


class DeploymentFilterBody(DeploymentQuery, Page):
    sort: DeploymentSort | None = None


class DeploymentPaginateBody(DeploymentQuery):
    page: Annotated[int, Field(ge=1, le=2**31)] = 1
    limit: Annotated[int, Field(ge=1, le=200)] = 10
    sort: DeploymentSort | None = None


class DeploymentFlowRunCreate(Request):
    state: StateCreate | None = None
    name: Annotated[str, StringConstraints(min_length=1, max_length=255)] | None = None
    parameters: JsonObject = Field(default_factory=dict)
    context: JsonObject = Field(default_factory=dict)
    tags: list[Text] = Field(default_factory=list)
    idempotency_key: Annotated[str, StringConstraints(max_length=512)] | None = None
    parent_task_run_id: uuid.UUID | None = None
    work_queue_name: Text | None = None
    job_variables: JsonObject | None = None
    labels: Labels = Field(default_factory=dict)
    enforce_parameter_schema: bool | None = None
    empirical_policy: JsonObject = Field(default_factory=dict)


class ScheduledRunsQuery(Request):
    """`scheduled_before` arrives as "2026-11-26 23:00:11.636451+00:00" (a space, not T)."""

    deployment_ids: list[uuid.UUID] = Field(default_factory=list)
    scheduled_before: UtcDatetime | None = None
    limit: Annotated[int, Field(ge=0, le=10_000)] | None = None


class ScheduleRunsBody(Request):
    """`POST /deployments/{id}/schedule`: create the runs of a window now (also backfills)."""

    start_time: UtcDatetime | None = None
    end_time: UtcDatetime | None = None
    min_time: dt.timedelta | None = None  # seconds, or an ISO 8601 duration
    min_runs: Annotated[int, Field(ge=0, le=10_000)] | None = None
    max_runs: Annotated[int, Field(ge=0, le=10_000)] | None = None
