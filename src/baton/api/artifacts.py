"""/api/artifacts: create, read, update, delete; filter and count artifacts and the
per-key collections (`latest/…`); the latest artifact of a key."""

from __future__ import annotations

import uuid

from starlette.responses import Response

from baton.api.deps import DB
from baton.api.responses import ORJSONResponse
from baton.api.routing import resource_router
from baton.core import artifacts
from baton.schemas.artifacts import (
    ArtifactCollectionCountBody,
    ArtifactCollectionFilterBody,
    ArtifactCountBody,
    ArtifactCreate,
    ArtifactFilterBody,
    ArtifactUpdate,
)

router = resource_router(prefix="/artifacts", tags=["artifacts"])


@router.post("/")
async def create_artifact(body: ArtifactCreate, db: DB) -> Response:
    artifact = await artifacts.create_artifact(db, body.model_dump())
    return ORJSONResponse(artifact, status_code=201)


@router.post("/filter")
async def filter_artifacts(db: DB, body: ArtifactFilterBody | None = None) -> Response:
    body = body or ArtifactFilterBody()
    limit, offset = body.page
    rows = await artifacts.filter_artifacts(
        db, body.artifacts, body.flow_runs, body.task_runs, body.sort, limit, offset
    )
    return ORJSONResponse(rows)


@router.post("/count")
async def count_artifacts(db: DB, body: ArtifactCountBody | None = None) -> Response:
    body = body or ArtifactCountBody()
    count = await artifacts.count_artifacts(db, body.artifacts, body.flow_runs, body.task_runs)
    return ORJSONResponse(count)


@router.post("/latest/filter")
async def filter_latest_artifacts(
    db: DB, body: ArtifactCollectionFilterBody | None = None
) -> Response:
    body = body or ArtifactCollectionFilterBody()
    limit, offset = body.page
    rows = await artifacts.filter_collections(
        db, body.artifacts, body.flow_runs, body.task_runs, body.sort, limit, offset
    )
    return ORJSONResponse(rows)


@router.post("/latest/count")
async def count_latest_artifacts(
    db: DB, body: ArtifactCollectionCountBody | None = None
) -> Response:
    body = body or ArtifactCollectionCountBody()
    count = await artifacts.count_collections(db, body.artifacts, body.flow_runs, body.task_runs)
    return ORJSONResponse(count)


@router.get("/{key}/latest")
async def read_latest_artifact(key: str, db: DB) -> Response:
    return ORJSONResponse(await artifacts.read_latest_artifact(db, key))


@router.get("/{artifact_id}")
async def read_artifact(artifact_id: uuid.UUID, db: DB) -> Response:
    return ORJSONResponse(await artifacts.read_artifact(db, artifact_id))


@router.patch("/{artifact_id}")
async def update_artifact(artifact_id: uuid.UUID, body: ArtifactUpdate, db: DB) -> Response:
    await artifacts.update_artifact(db, artifact_id, body.changes())
    return Response(status_code=204)


@router.delete("/{artifact_id}")
async def delete_artifact(artifact_id: uuid.UUID, db: DB) -> Response:
    await artifacts.delete_artifact(db, artifact_id)
    return Response(status_code=204)
