"""The UI's own static files (one stylesheet, one script), cached for a year: their URLs
carry a hash of their content, so a changed file gets a new URL."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import FileResponse, Response

from baton.errors import NotFound
from baton.ui.gate import ui_router
from baton.ui.state import STATIC, ui_state

router = ui_router(public=True)
_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}


@router.get("/static/{name}")
async def static_file(request: Request, name: str) -> Response:
    if name not in ui_state(request).asset_versions:  # only our own files, no paths
        raise NotFound("No such file")
    path = STATIC / name
    headers = {"Cache-Control": "public, max-age=31536000, immutable"}
    media_type = _TYPES.get(path.suffix, "application/octet-stream")
    return FileResponse(path, media_type=media_type, headers=headers)


@router.get("/favicon.ico")
async def favicon() -> Response:
    """No icon (pages say so with an empty data: icon), but browsers ask this path anyway:
    answer "nothing" instead of a 404 in every console, and let them cache the answer."""
    return Response(status_code=204, headers={"Cache-Control": "public, max-age=86400"})
