"""Artifacts: the list (latest first, keyset paged, by key or type) and one artifact,
rendered safely, with the other versions of its key."""

from __future__ import annotations

import urllib.parse
from typing import Any

from fastapi import Request
from starlette.responses import Response

from baton.core.artifacts import read_artifact
from baton.ui.gate import ui_router
from baton.ui.markdown import render_artifact
from baton.ui.params import parse_id
from baton.ui.queries import artifacts as q
from baton.ui.rendering import page
from baton.ui.state import database

router = ui_router()


@router.get("/artifacts")
async def artifact_list(request: Request) -> Response:
    params = request.query_params
    key = params.get("key", "").strip()[:255]
    kind = params.get("type", "").strip()[:255]
    async with database(request).read() as conn:
        result = await q.artifact_page(conn, key, kind, params.get("after"), params.get("before"))
        kinds = await q.artifact_types(conn)
    kept = [(k, v) for k, v in params.multi_items() if k not in ("after", "before")]
    context = {
        "result": result,
        "key": key,
        "kind": kind,
        "kinds": kinds,
        "base_query": urllib.parse.urlencode(kept),
    }
    return page(request, "pages/artifacts.html", context)


@router.get("/artifacts/{raw_id}")
async def artifact_page(request: Request, raw_id: str) -> Response:
    artifact = await read_artifact(database(request), parse_id(raw_id, "Artifact"))
    versions: list[dict[str, Any]] = []
    run = None
    async with database(request).read() as conn:
        if artifact["key"]:
            versions = await q.versions(conn, artifact["key"])
        if artifact["flow_run_id"]:
            run = await q.run_name(conn, artifact["flow_run_id"])
    context = {
        "a": artifact,
        "shown": render_artifact(artifact["type"], artifact["data"]),
        "versions": versions,
        "run": run,
    }
    return page(request, "pages/artifact.html", context)
