"""Flows on the wire."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints, field_validator

from baton.schemas.base import Request

Name = Annotated[str, StringConstraints(min_length=1, max_length=255, strip_whitespace=True)]
Labels = dict[str, str | int | float | bool]

# Characters that would break the flow_name/deployment_name paths the client builds.
_FORBIDDEN_IN_NAMES = "/%&<>"


class FlowCreate(Request):
    name: Name
    tags: list[str] = Field(default_factory=list)
    labels: Labels = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _url_safe(cls, value: str) -> str:
        bad = sorted({c for c in value if c in _FORBIDDEN_IN_NAMES})
        if bad:
            raise ValueError(f"name must not contain {' '.join(bad)}")
        return value


class FlowUpdate(Request):
    tags: list[str] | None = None
