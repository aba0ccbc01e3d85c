"""The Prefect-compatible REST API, one module per resource, mounted under /api."""

from __future__ import annotations

from fastapi import APIRouter

from baton.api import admin, flows, health


def api_router() -> APIRouter:
    router = APIRouter(prefix="/api")
    for module in (health, admin, flows):
        router.include_router(module.router)
    return router
