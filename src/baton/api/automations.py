"""/api/automations: Baton runs no automations yet. The two look-ups the client makes
around deployments are answered as an empty system would: nothing owned, nothing related."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path
from starlette.responses import Response

from baton.api.responses import ORJSONResponse
from baton.api.routing import resource_router

router = resource_router(prefix="/automations", tags=["automations"])

# A resource id as events name it: "prefect.deployment.<uuid>", "prefect.flow-run.<uuid>".
ResourceId = Annotated[
    str, Path(max_length=255, pattern=r"^prefect\.[a-z][a-z-]*\.[A-Za-z0-9_.:-]+$")
]


@router.delete("/owned-by/{resource_id}", status_code=202)
async def delete_automations_owned_by(resource_id: ResourceId) -> None:
    """`deploy` and `serve` clear a deployment's automations before re-creating them."""


@router.get("/related-to/{resource_id}")
async def read_automations_related_to(resource_id: ResourceId) -> Response:
    """`prefect deployment inspect` lists them; a 404 would make it fail."""
    return ORJSONResponse([])
