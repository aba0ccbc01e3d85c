"""Logs on the wire: the records the client posts in batches, and the log filter."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, TypeAdapter, field_validator

from baton.schemas.base import Request, as_utc
from baton.schemas.text_search import MAX_QUERY_LENGTH

# Pages of logs: the client asks for `limit: null` and learns the page size from the answer;
# a limit above the maximum gets a 422 containing "Invalid limit", which the CLI recognises.
DEFAULT_LIMIT = 200
MAX_LIMIT = 1000

# A client batch is at most PREFECT_LOGGING_TO_API_BATCH_SIZE (4 MB) of JSON, which can hold
# about 20,000 short records; the caps leave room for that and bound one insert.
MAX_RECORDS = 25_000
MAX_BODY_BYTES = 8 * 1024 * 1024

NAME_LENGTH = 255  # log.name column


utc = as_utc  # a naive timestamp is taken to be UTC already


class LogCreate(Request):
    """A record as the client sends it. No Python validators: a batch of thousands is
    parsed in one pass of pydantic's core; `core.logs.create_logs` fits what the columns
    cannot hold (NUL characters, over-long names, times without an offset)."""

    name: str
    level: Annotated[int, Field(ge=0, le=32767)]
    message: str
    timestamp: dt.datetime
    flow_run_id: uuid.UUID | None = None
    task_run_id: uuid.UUID | None = None


LOG_BATCH: TypeAdapter[list[LogCreate]] = TypeAdapter(
    Annotated[list[LogCreate], Field(max_length=MAX_RECORDS)]
)


class LogFilterLevel(Request):
    ge_: Annotated[int, Field(ge=0, le=32767)] | None = None
    le_: Annotated[int, Field(ge=0, le=32767)] | None = None


class LogFilterTimestamp(Request):
    before_: dt.datetime | None = None
    after_: dt.datetime | None = None

    @field_validator("before_", "after_")
    @classmethod
    def _utc(cls, value: dt.datetime | None) -> dt.datetime | None:
        return None if value is None else utc(value)


class LogFilterIds(Request):
    any_: list[uuid.UUID] | None = None


class LogFilterTaskRunId(LogFilterIds):
    is_null_: bool | None = None


class LogFilterName(Request):
    any_: list[str] | None = None


class LogFilterText(Request):
    query: Annotated[str, Field(max_length=MAX_QUERY_LENGTH)]


class LogFilter(Request):
    operator: Literal["and_", "or_"] = "and_"
    level: LogFilterLevel | None = None
    timestamp: LogFilterTimestamp | None = None
    flow_run_id: LogFilterIds | None = None
    task_run_id: LogFilterTaskRunId | None = None
    name: LogFilterName | None = None
    text: LogFilterText | None = None


class LogSort(StrEnum):
    TIMESTAMP_ASC = "TIMESTAMP_ASC"
    TIMESTAMP_DESC = "TIMESTAMP_DESC"


class LogCount(Request):
    logs: LogFilter | None = None


class LogRead(LogCount):
    limit: Annotated[int, Field(ge=0)] | None = None
    offset: Annotated[int, Field(ge=0, le=2**31)] | None = None
    sort: LogSort | None = None
