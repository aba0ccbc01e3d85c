"""/api/logs: batches from the client's log handler, and filtered reads."""

from __future__ import annotations

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.responses import Response

from baton.api.deps import DB
from baton.api.responses import ORJSONResponse
from baton.api.routing import resource_router
from baton.core import logs
from baton.errors import BatonError
from baton.schemas.logs import LOG_BATCH, MAX_BODY_BYTES, MAX_RECORDS, LogCount, LogRead

router = resource_router(prefix="/logs", tags=["logs"])


class TooLarge(BatonError):
    status_code = 413
    code = "too_large"


@router.post(
    "/",
    status_code=201,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"type": "array", "items": {}}}},
        }
    },
)
async def create_logs(request: Request, db: DB) -> Response:
    """A JSON array of log records, inserted in one statement; 201 once committed."""
    body = await _read_capped(request, MAX_BODY_BYTES)
    try:
        batch = LOG_BATCH.validate_json(body)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_context=False)
        if any(err["type"] == "too_long" and err["loc"] == () for err in errors):
            raise TooLarge(
                f"Too many log records in one request: at most {MAX_RECORDS} are accepted."
            ) from None
        raise RequestValidationError(
            [{**err, "loc": ("body", *err["loc"])} for err in errors]
        ) from None
    await logs.create_logs(db, batch)
    return Response(status_code=201)


@router.post("/filter")
async def read_logs(body: LogRead, db: DB) -> Response:
    rows = await logs.read_logs(db, body.logs, body.limit, body.offset, body.sort)
    return ORJSONResponse(rows)


@router.post("/count")
async def count_logs(body: LogCount, db: DB) -> Response:
    return ORJSONResponse(await logs.count_logs(db, body.logs))


async def _read_capped(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it passes `limit` bytes."""
    too_large = TooLarge(f"The request body is larger than {limit} bytes.")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)
