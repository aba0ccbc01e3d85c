"""Task runs on the wire (created over HTTP only for subflow placeholders; the rest come
from events)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from pydantic import Field, StringConstraints

from baton.schemas.base import Request
from baton.schemas.flows import Labels
from baton.schemas.states import StateCreate

Text = Annotated[str, StringConstraints(max_length=255)]


class TaskRunCreate(Request):
    id: uuid.UUID | None = None
    name: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    flow_run_id: uuid.UUID | None = None
    task_key: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    dynamic_key: Annotated[str, StringConstraints(max_length=255)]
    cache_key: Annotated[str, StringConstraints(max_length=2000)] | None = None
    cache_expiration: dt.datetime | None = None
    task_version: Text | None = None
    empirical_policy: dict[str, Any] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)
    labels: Labels = Field(default_factory=dict)
    task_inputs: dict[str, Any] = Field(default_factory=dict)
    state: StateCreate | None = None
