"""Concurrency limits on the wire: global (v2) limits, their slots and leases, and the
tag (v1) limits the older API speaks of."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from baton.schemas.base import Request
from baton.schemas.filters import Page

MAX_SLOTS = 2**31 - 1  # the columns are 32-bit integers on PostgreSQL
MAX_NAMES = 1000  # names in one increment or decrement
MAX_LEASE_SECONDS = 86_400.0
MAX_SECONDS = 1e9
MAX_DECAY = 1e9

# A limit's name may not hold the characters Prefect bans from names (it sits in URLs).
LimitName = Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=r"^[^/%&><]+$")]
# A name to look up (as in "tag:<tag>" for every tag of a task): any text; unknown names
# are skipped, not refused.
LookupName = Annotated[str, StringConstraints(max_length=255)]
Tag = Annotated[str, StringConstraints(min_length=1, max_length=251)]  # "tag:" + tag fits 255
SlotCount = Annotated[int, Field(ge=0, le=MAX_SLOTS)]
Slots = Annotated[int, Field(ge=1, le=MAX_SLOTS)]
Decay = Annotated[float, Field(ge=0, le=MAX_DECAY, allow_inf_nan=False)]
LeaseSeconds = Annotated[float, Field(gt=0, le=MAX_LEASE_SECONDS, allow_inf_nan=False)]
Seconds = Annotated[float, Field(ge=0, le=MAX_SECONDS, allow_inf_nan=False)]
Mode = Literal["concurrency", "rate_limit"]
Names = Annotated[list[LookupName], Field(min_length=1, max_length=MAX_NAMES)]


class LimitCreate(Request):
    """The client sends explicit nulls for fields it leaves at their defaults."""

    name: LimitName
    limit: SlotCount
    active: bool | None = True
    active_slots: SlotCount | None = 0
    denied_slots: SlotCount | None = 0
    slot_decay_per_second: Decay | None = 0.0


class LimitUpdate(Request):
    """A partial update: only the keys sent with a value change."""

    name: LimitName | None = None
    limit: SlotCount | None = None
    active: bool | None = None
    active_slots: SlotCount | None = None
    denied_slots: SlotCount | None = None
    slot_decay_per_second: Decay | None = None

    def changes(self) -> dict[str, Any]:
        return {
            key: getattr(self, key)
            for key in self.model_fields_set
            if getattr(self, key) is not None
        }


class LimitFilterBody(Page):
    pass


class IncrementBody(Request):
    names: Names
    slots: Slots
    mode: Mode = "concurrency"
    # Deprecated in Prefect: missing limits are created inactive (they count, never block).
    create_if_missing: bool | None = None


class Holder(Request):
    type: Literal["flow_run", "task_run", "deployment"]
    id: uuid.UUID


class IncrementWithLeaseBody(Request):
    names: Names
    slots: Slots
    mode: Mode = "concurrency"
    lease_duration: LeaseSeconds = 300.0
    holder: Holder | None = None


class RenewBody(Request):
    lease_duration: LeaseSeconds = 300.0


class DecrementBody(Request):
    names: Names
    slots: Slots
    occupancy_seconds: Seconds | None = None
    mode: Mode = "concurrency"


class DecrementWithLeaseBody(Request):
    lease_id: uuid.UUID


# --- tag (v1) limits ---------------------------------------------------------------------


class TagLimitCreate(Request):
    tag: Tag
    concurrency_limit: SlotCount


class TagLimitFilterBody(Page):
    pass


class TagResetBody(Request):
    slot_override: Annotated[list[uuid.UUID], Field(max_length=MAX_NAMES)] | None = None


class TagIncrementBody(Request):
    names: Names  # tags
    task_run_id: uuid.UUID


class TagDecrementBody(Request):
    names: Names
    task_run_id: uuid.UUID
    occupancy_seconds: Seconds | None = None
