"""What a worker sends to be handed its pool's due runs."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from baton.schemas.base import Request, UtcDatetime


class ClaimRunsBody(Request):
    """`scheduled_before` arrives as "2026-11-26 23:00:11.636451+00:00" (a space, not T)."""

    work_queue_names: list[Annotated[str, StringConstraints(max_length=255)]] | None = None
    scheduled_before: UtcDatetime | None = None
    scheduled_after: UtcDatetime | None = None
    limit: Annotated[int, Field(ge=1, le=1000)] | None = None
