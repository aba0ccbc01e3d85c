"""Server-rendered pages. A placeholder home page until the UI lands."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from baton import __version__

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
router = APIRouter(include_in_schema=False)


@router.get("/")
async def home(request: Request) -> Response:
    return templates.TemplateResponse(request, "home.html", {"version": __version__})
