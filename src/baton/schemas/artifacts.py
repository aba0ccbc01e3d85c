"""Artifacts on the wire, and the per-key collections of `…/latest/filter`."""

from __future__ import annotations

import re
import uuid
from enum import StrEnum
from typing import Annotated, Any

import orjson
from pydantic import AfterValidator, StringConstraints

from baton.schemas.base import Request
from baton.schemas.filters import (
    FlowRunFilter,
    IdFilter,
    Operator,
    Page,
    TaskRunFilter,
    TextFilter,
)

_KEY = re.compile(r"[a-z0-9-]+")
MAX_METADATA_VALUE = 500  # longer metadata values are cut, as the client itself does


def _check_key(value: str) -> str:
    if not _KEY.fullmatch(value):
        raise ValueError("artifact key must only contain lowercase letters, numbers, and dashes")
    return value


def _cut_metadata(value: dict[str, str] | None) -> dict[str, str] | None:
    if value is None:
        return None
    return {
        k: v if len(v) <= MAX_METADATA_VALUE else v[:MAX_METADATA_VALUE] + "..."
        for k, v in value.items()
    }


def _check_data(value: Any) -> Any:
    try:
        orjson.dumps(value)
    except orjson.JSONEncodeError as exc:  # e.g. an integer beyond 64 bits
        raise ValueError(f"data cannot be stored as JSON: {exc}") from None
    return value


ArtifactKey = Annotated[
    str, StringConstraints(min_length=1, max_length=255), AfterValidator(_check_key)
]
Metadata = Annotated[dict[str, str] | None, AfterValidator(_cut_metadata)]
# Any JSON document; its shape depends on the artifact's type (markdown text, a table, …).
ArtifactData = Annotated[Any, AfterValidator(_check_data)]


class ArtifactCreate(Request):
    key: ArtifactKey | None = None
    type: Annotated[str, StringConstraints(max_length=255)] | None = None
    description: str | None = None
    data: ArtifactData = None
    metadata_: Metadata = None
    flow_run_id: uuid.UUID | None = None
    task_run_id: uuid.UUID | None = None


class ArtifactUpdate(Request):
    """A partial update: only the keys the client sent change."""

    data: ArtifactData = None
    description: str | None = None
    metadata_: Metadata = None

    def changes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.model_fields_set}


class ArtifactKeyFilter(Request):
    any_: list[str] | None = None
    like_: str | None = None
    exists_: bool | None = None


class _ArtifactFieldsFilter(Request):
    operator: Operator = "and_"
    key: ArtifactKeyFilter | None = None
    flow_run_id: IdFilter | None = None
    task_run_id: IdFilter | None = None
    type: TextFilter | None = None


class ArtifactFilter(_ArtifactFieldsFilter):
    id: IdFilter | None = None


class ArtifactCollectionFilter(_ArtifactFieldsFilter):
    latest_id: IdFilter | None = None


class ArtifactSort(StrEnum):
    CREATED_DESC = "CREATED_DESC"
    UPDATED_DESC = "UPDATED_DESC"
    ID_DESC = "ID_DESC"
    KEY_DESC = "KEY_DESC"
    KEY_ASC = "KEY_ASC"


class ArtifactCountBody(Request):
    artifacts: ArtifactFilter | None = None
    # Accepted whole; only their `id.any_` applies (to the artifact's flow_run_id/task_run_id).
    flow_runs: FlowRunFilter | None = None
    task_runs: TaskRunFilter | None = None


class ArtifactFilterBody(ArtifactCountBody, Page):
    sort: ArtifactSort | None = None


class ArtifactCollectionCountBody(Request):
    artifacts: ArtifactCollectionFilter | None = None
    flow_runs: FlowRunFilter | None = None
    task_runs: TaskRunFilter | None = None


class ArtifactCollectionFilterBody(ArtifactCollectionCountBody, Page):
    sort: ArtifactSort | None = None
