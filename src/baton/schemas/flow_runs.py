"""Flow runs on the wire."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from pydantic import Field, StringConstraints

from baton.schemas.base import Request
from baton.schemas.flows import Labels
from baton.schemas.states import StateCreate

Name = Annotated[str, StringConstraints(min_length=1, max_length=255)]
Text = Annotated[str, StringConstraints(max_length=255)]


class FlowRunCreate(Request):
    state: StateCreate | None = None
    name: Name | None = None
    flow_id: uuid.UUID
    deployment_id: uuid.UUID | None = None
    flow_version: Text | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)
    context: dict[str, Any] = Field(default_factory=dict)
    parent_task_run_id: uuid.UUID | None = None
    infrastructure_document_id: uuid.UUID | None = None
    empirical_policy: dict[str, Any] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)
    idempotency_key: Annotated[str, StringConstraints(max_length=512)] | None = None
    labels: Labels = Field(default_factory=dict)
    work_pool_name: Text | None = None
    work_queue_name: Text | None = None
    job_variables: dict[str, Any] | None = None


class FlowRunUpdate(Request):
    """A PATCH: only the fields sent are changed."""

    name: Name | None = None
    flow_version: Text | None = None
    parameters: dict[str, Any] | None = None
    empirical_policy: dict[str, Any] | None = None
    tags: list[str] | None = None
    # The worker sends the process id as a string.
    infrastructure_pid: Text | None = None
    job_variables: dict[str, Any] | None = None
