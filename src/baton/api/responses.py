"""JSON responses serialised with orjson.

OPT_NON_STR_KEYS because row mappings key columns by `quoted_name`, a str subclass;
`_default` because asyncpg returns its own UUID subclass, which orjson does not know.
"""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from fastapi.responses import JSONResponse

_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS


def _default(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps(content: Any) -> bytes:
    return orjson.dumps(content, default=_default, option=_OPTIONS)


class ORJSONResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return dumps(content)
