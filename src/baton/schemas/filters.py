"""Filter bodies of the `…/filter` and `…/count` endpoints, as the Prefect client sends them.

Each object filter has an `operator` ("and_" or "or_") and optional per-field criteria;
`baton.core.filters` turns them into SQL.
"""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Literal

from pydantic import Field

from baton.orchestration.states import StateType
from baton.schemas.base import Request, UtcDatetime

Operator = Literal["and_", "or_"]
DEFAULT_LIMIT = 200
MAX_LIMIT = 10_000


class IdFilter(Request):
    any_: list[uuid.UUID] | None = None
    not_any_: list[uuid.UUID] | None = None


class NullableIdFilter(Request):
    operator: Operator = "and_"
    any_: list[uuid.UUID] | None = None
    is_null_: bool | None = None


class TextFilter(Request):
    any_: list[str] | None = None
    not_any_: list[str] | None = None
    like_: str | None = None
    startswith_: str | None = None
    is_null_: bool | None = None


class TagsFilter(Request):
    operator: Operator = "and_"
    all_: list[str] | None = None
    any_: list[str] | None = None
    is_null_: bool | None = None


class TimeFilter(Request):
    before_: UtcDatetime | None = None
    after_: UtcDatetime | None = None
    is_null_: bool | None = None


class StateTypeFilter(Request):
    any_: list[StateType] | None = None
    not_any_: list[StateType] | None = None


class StateNameFilter(Request):
    any_: list[str] | None = None
    not_any_: list[str] | None = None


class StateFilter(Request):
    operator: Operator = "and_"
    type: StateTypeFilter | None = None
    name: StateNameFilter | None = None


class ExistsFilter(Request):
    exists_: bool | None = None


class FlowFilter(Request):
    operator: Operator = "and_"
    id: IdFilter | None = None
    name: TextFilter | None = None
    tags: TagsFilter | None = None


class FlowRunFilter(Request):
    operator: Operator = "and_"
    id: IdFilter | None = None
    name: TextFilter | None = None
    tags: TagsFilter | None = None
    deployment_id: NullableIdFilter | None = None
    work_queue_name: TextFilter | None = None
    state: StateFilter | None = None
    flow_version: TextFilter | None = None
    start_time: TimeFilter | None = None
    end_time: TimeFilter | None = None
    expected_start_time: TimeFilter | None = None
    next_scheduled_start_time: TimeFilter | None = None
    parent_flow_run_id: NullableIdFilter | None = None
    parent_task_run_id: NullableIdFilter | None = None
    idempotency_key: TextFilter | None = None


class TaskRunFilter(Request):
    operator: Operator = "and_"
    id: IdFilter | None = None
    name: TextFilter | None = None
    tags: TagsFilter | None = None
    state: StateFilter | None = None
    start_time: TimeFilter | None = None
    expected_start_time: TimeFilter | None = None
    subflow_runs: ExistsFilter | None = None
    flow_run_id: NullableIdFilter | None = None


class BoolFilter(Request):
    eq_: bool | None = None


class DeploymentFilter(Request):
    operator: Operator = "and_"
    id: IdFilter | None = None
    name: TextFilter | None = None
    # like_ matches either the flow's name or the deployment's.
    flow_or_deployment_name: TextFilter | None = None
    paused: BoolFilter | None = None
    tags: TagsFilter | None = None
    work_queue_name: TextFilter | None = None
    work_queue_id: IdFilter | None = None


class WorkPoolFilter(Request):
    operator: Operator = "and_"
    id: IdFilter | None = None
    name: TextFilter | None = None


class WorkQueueFilter(Request):
    operator: Operator = "and_"
    id: IdFilter | None = None
    name: TextFilter | None = None


class FlowRunSort(StrEnum):
    ID_DESC = "ID_DESC"
    START_TIME_ASC = "START_TIME_ASC"
    START_TIME_DESC = "START_TIME_DESC"
    EXPECTED_START_TIME_ASC = "EXPECTED_START_TIME_ASC"
    EXPECTED_START_TIME_DESC = "EXPECTED_START_TIME_DESC"
    NAME_ASC = "NAME_ASC"
    NAME_DESC = "NAME_DESC"
    NEXT_SCHEDULED_START_TIME_ASC = "NEXT_SCHEDULED_START_TIME_ASC"
    END_TIME_DESC = "END_TIME_DESC"


class TaskRunSort(StrEnum):
    ID_DESC = "ID_DESC"
    EXPECTED_START_TIME_ASC = "EXPECTED_START_TIME_ASC"
    EXPECTED_START_TIME_DESC = "EXPECTED_START_TIME_DESC"
    NAME_ASC = "NAME_ASC"
    NAME_DESC = "NAME_DESC"
    NEXT_SCHEDULED_START_TIME_ASC = "NEXT_SCHEDULED_START_TIME_ASC"
    END_TIME_DESC = "END_TIME_DESC"
    DURATION_DESC = "DURATION_DESC"
    DURATION_ASC = "DURATION_ASC"


class FlowSort(StrEnum):
    CREATED_DESC = "CREATED_DESC"
    UPDATED_DESC = "UPDATED_DESC"
    NAME_ASC = "NAME_ASC"
    NAME_DESC = "NAME_DESC"


class Page(Request):
    # The client sends explicit nulls for "no preference".
    limit: int | None = Field(default=None, ge=0, le=MAX_LIMIT)
    offset: int | None = Field(default=None, ge=0, le=2**31)

    @property
    def page(self) -> tuple[int, int]:
        """(limit, offset) with defaults applied."""
        return (DEFAULT_LIMIT if self.limit is None else self.limit), (self.offset or 0)


class RunQuery(Request):
    """The filters a flow-run or task-run query may combine."""

    flows: FlowFilter | None = None
    flow_runs: FlowRunFilter | None = None
    task_runs: TaskRunFilter | None = None
    deployments: DeploymentFilter | None = None
    work_pools: WorkPoolFilter | None = None
    work_pool_queues: WorkQueueFilter | None = None


class FlowRunFilterBody(RunQuery, Page):
    sort: FlowRunSort | None = None


class TaskRunFilterBody(RunQuery, Page):
    sort: TaskRunSort | None = None


class FlowFilterBody(RunQuery, Page):
    sort: FlowSort | None = None
