"""Variables on the wire: named JSON values with tags."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any

import orjson
from pydantic import AfterValidator, Field, StringConstraints

from baton.schemas.base import Request
from baton.schemas.filters import IdFilter, Operator, Page, TagsFilter, TextFilter

MAX_VALUE_BYTES = 1_000_000

_NAME = re.compile(r"[a-z0-9_-]+")


def _check_name(value: str) -> str:
    if not _NAME.fullmatch(value):
        raise ValueError(
            "variable name must only contain lowercase letters, numbers, dashes and underscores"
        )
    return value


VariableName = Annotated[
    str, StringConstraints(min_length=1, max_length=255), AfterValidator(_check_name)
]
Tags = list[Annotated[str, StringConstraints(max_length=255)]]


def _check_value_size(value: Any) -> Any:
    try:
        size = len(orjson.dumps(value))
    except orjson.JSONEncodeError as exc:  # e.g. an integer beyond 64 bits
        raise ValueError(f"value cannot be stored as JSON: {exc}") from None
    if size > MAX_VALUE_BYTES:
        raise ValueError(f"value must be at most {MAX_VALUE_BYTES} bytes once serialised as JSON")
    return value


# Any JSON document: string, number, boolean, object, list or null.
VariableValue = Annotated[Any, AfterValidator(_check_value_size)]


class VariableCreate(Request):
    name: VariableName
    value: VariableValue = Field(...)  # required, but may be null
    tags: Tags | None = None


class VariableUpdate(Request):
    """A partial update: only the keys the client sent change; `value: null` sets null."""

    name: VariableName | None = None
    value: VariableValue = None
    tags: Tags | None = None

    def changes(self) -> dict[str, Any]:
        sent = self.model_fields_set
        changes: dict[str, Any] = {}
        if "name" in sent and self.name is not None:
            changes["name"] = self.name
        if "value" in sent:
            changes["value"] = self.value
        if "tags" in sent and self.tags is not None:
            changes["tags"] = self.tags
        return changes


class VariableFilter(Request):
    operator: Operator = "and_"
    id: IdFilter | None = None
    name: TextFilter | None = None
    tags: TagsFilter | None = None


class VariableSort(StrEnum):
    CREATED_DESC = "CREATED_DESC"
    UPDATED_DESC = "UPDATED_DESC"
    NAME_ASC = "NAME_ASC"
    NAME_DESC = "NAME_DESC"


class VariableCountBody(Request):
    variables: VariableFilter | None = None


class VariableFilterBody(VariableCountBody, Page):
    sort: VariableSort | None = None
