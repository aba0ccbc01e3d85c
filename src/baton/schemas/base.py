"""Base classes of the wire schemas."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict


class Request(BaseModel):
    """A request body. Unknown keys are ignored, so newer clients that send more still work."""

    model_config = ConfigDict(extra="ignore")


def as_utc(value: dt.datetime) -> dt.datetime:
    """Aware UTC; a time sent without an offset is taken to be UTC (as the client's are)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


# A time a client sends: always compared and stored as aware UTC.
UtcDatetime = Annotated[dt.datetime, AfterValidator(as_utc)]
