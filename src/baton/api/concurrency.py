"""/api/v2/concurrency_limits (global limits, slots and leases) and /api/concurrency_limits
(tag limits, the v1 API, kept as the global limits named "tag:<tag>").

A request whose slots are not all free is answered 423 Locked with `Retry-After` in
seconds (a decimal: the client reads it as a float); a tag limit of 0 is a 423 without it,
which tells the v1 client to give up rather than wait.
"""

from __future__ import annotations

import uuid

from starlette.responses import Response

from baton.api.deps import DB
from baton.api.errors import error_response
from baton.api.responses import ORJSONResponse
from baton.api.routing import resource_router
from baton.core import concurrency, tag_limits
from baton.core.slots import Holder, SlotsUnavailable
from baton.schemas.concurrency import (
    DecrementBody,
    DecrementWithLeaseBody,
    IncrementBody,
    IncrementWithLeaseBody,
    LimitCreate,
    LimitFilterBody,
    LimitUpdate,
    RenewBody,
    TagDecrementBody,
    TagIncrementBody,
    TagLimitCreate,
    TagLimitFilterBody,
    TagResetBody,
)

router = resource_router(prefix="/v2/concurrency_limits", tags=["concurrency limits"])
tag_router = resource_router(prefix="/concurrency_limits", tags=["tag concurrency limits"])


def _locked(refused: SlotsUnavailable) -> Response:
    retry = refused.retry_after
    headers = None if retry is None else {"Retry-After": f"{retry:.2f}"}
    return error_response(423, refused.detail, code=refused.code, headers=headers)


def _ref(id_or_name: str) -> concurrency.Ref:
    try:
        return uuid.UUID(id_or_name)
    except ValueError:
        return id_or_name


# --- global limits ------------------------------------------------------------------------


@router.post("/")
async def create_limit(body: LimitCreate, db: DB) -> Response:
    created = await concurrency.create_limit(
        db,
        body.name,
        body.limit,
        active=True if body.active is None else body.active,
        active_slots=body.active_slots or 0,
        denied_slots=body.denied_slots or 0,
        slot_decay_per_second=body.slot_decay_per_second or 0.0,
    )
    return ORJSONResponse(created, status_code=201)


@router.post("/filter")
async def filter_limits(db: DB, body: LimitFilterBody | None = None) -> Response:
    limit, offset = (body or LimitFilterBody()).page
    return ORJSONResponse(await concurrency.filter_limits(db, limit, offset))


@router.post("/increment")
async def increment(body: IncrementBody, db: DB) -> Response:
    try:
        limits = await concurrency.increment(
            db, body.names, body.slots, body.mode, create_if_missing=bool(body.create_if_missing)
        )
    except SlotsUnavailable as refused:
        return _locked(refused)
    return ORJSONResponse(limits)


@router.post("/increment-with-lease")
async def increment_with_lease(body: IncrementWithLeaseBody, db: DB) -> Response:
    holder = Holder(body.holder.type, body.holder.id) if body.holder else None
    try:
        granted = await concurrency.increment_with_lease(
            db, body.names, body.slots, body.mode, body.lease_duration, holder
        )
    except SlotsUnavailable as refused:
        return _locked(refused)
    return ORJSONResponse(granted)


@router.post("/leases/{lease_id}/renew")
async def renew_lease(lease_id: uuid.UUID, db: DB, body: RenewBody | None = None) -> Response:
    await concurrency.renew_lease(db, lease_id, (body or RenewBody()).lease_duration)
    return Response(status_code=204)


@router.post("/decrement")
async def decrement(body: DecrementBody, db: DB) -> Response:
    limits = await concurrency.decrement(
        db, body.names, body.slots, body.occupancy_seconds, body.mode
    )
    return ORJSONResponse(limits)


@router.post("/decrement-with-lease")
async def decrement_with_lease(body: DecrementWithLeaseBody, db: DB) -> Response:
    await concurrency.release_lease(db, body.lease_id)
    return Response(status_code=204)


@router.get("/{id_or_name}")
async def read_limit(id_or_name: str, db: DB) -> Response:
    return ORJSONResponse(await concurrency.read_limit(db, _ref(id_or_name)))


@router.patch("/{id_or_name}")
async def update_limit(id_or_name: str, body: LimitUpdate, db: DB) -> Response:
    await concurrency.update_limit(db, _ref(id_or_name), body.changes())
    return Response(status_code=204)


@router.delete("/{id_or_name}")
async def delete_limit(id_or_name: str, db: DB) -> Response:
    await concurrency.delete_limit(db, _ref(id_or_name))
    return Response(status_code=204)


# --- tag limits (v1) ----------------------------------------------------------------------


@tag_router.post("/")
async def create_tag_limit(body: TagLimitCreate, db: DB) -> Response:
    """Creates the tag's limit (201) or sets the limit of the existing one (200)."""
    limit, created = await tag_limits.upsert_tag_limit(db, body.tag, body.concurrency_limit)
    return ORJSONResponse(limit, status_code=201 if created else 200)


@tag_router.post("/filter")
async def filter_tag_limits(db: DB, body: TagLimitFilterBody | None = None) -> Response:
    limit, offset = (body or TagLimitFilterBody()).page
    return ORJSONResponse(await tag_limits.filter_tag_limits(db, limit, offset))


@tag_router.post("/increment")
async def increment_tags(body: TagIncrementBody, db: DB) -> Response:
    try:
        limits = await tag_limits.increment_tags(db, body.names, body.task_run_id)
    except SlotsUnavailable as refused:
        return _locked(refused)
    return ORJSONResponse(limits)


@tag_router.post("/decrement")
async def decrement_tags(body: TagDecrementBody, db: DB) -> Response:
    return ORJSONResponse(await tag_limits.decrement_tags(db, body.names, body.task_run_id))


@tag_router.get("/tag/{tag}")
async def read_tag_limit(tag: str, db: DB) -> Response:
    return ORJSONResponse(await tag_limits.read_tag_limit(db, tag))


@tag_router.delete("/tag/{tag}")
async def delete_tag_limit(tag: str, db: DB) -> Response:
    await tag_limits.delete_tag_limit(db, tag)
    return Response(status_code=204)


@tag_router.post("/tag/{tag}/reset")
async def reset_tag_limit(tag: str, db: DB, body: TagResetBody | None = None) -> Response:
    override = (body or TagResetBody()).slot_override
    await tag_limits.reset_tag_limit(db, tag, override)
    return Response(status_code=204)


@tag_router.get("/{limit_id}")
async def read_tag_limit_by_id(limit_id: uuid.UUID, db: DB) -> Response:
    return ORJSONResponse(await tag_limits.read_tag_limit(db, limit_id))


@tag_router.delete("/{limit_id}")
async def delete_tag_limit_by_id(limit_id: uuid.UUID, db: DB) -> Response:
    await tag_limits.delete_tag_limit(db, limit_id)
    return Response(status_code=204)
