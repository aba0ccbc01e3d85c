"""Base classes of the wire schemas."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Request(BaseModel):
    """A request body. Unknown keys are ignored, so newer clients that send more still work."""

    model_config = ConfigDict(extra="ignore")
