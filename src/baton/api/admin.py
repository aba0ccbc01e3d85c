"""Server facts the Prefect client checks before it starts work."""

from __future__ import annotations

from fastapi import Query

from baton import PREFECT_SERVER_VERSION
from baton.api.routing import resource_router
from baton.errors import InvalidInput

router = resource_router(tags=["admin"])


@router.get("/admin/version")
async def version() -> str:
    # The client refuses a server whose major version differs and warns on an older one.
    return PREFECT_SERVER_VERSION


@router.get("/admin/storage")
async def storage() -> dict[str, None]:
    # No server-wide default result storage: the client then keeps results locally.
    return {"default_result_storage_block_id": None}


@router.get("/csrf-token")
async def csrf_token(client: str = Query(min_length=1)) -> None:
    # A 422 carrying this exact sentence turns CSRF handling off in the Prefect client.
    raise InvalidInput("CSRF protection is disabled.")
