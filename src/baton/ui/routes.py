"""The web UI: server-rendered pages (Jinja2), one module per resource under `pages/`."""

from __future__ import annotations

from fastapi import APIRouter

from baton.ui.pages import (
    artifacts,
    assets,
    audit,
    concurrency,
    dashboard,
    deployments,
    events,
    flows,
    login,
    logs,
    run_detail,
    runs,
    variables,
    work_pools,
)


def ui_routes() -> APIRouter:
    router = APIRouter(include_in_schema=False)
    for module in (
        assets,
        login,
        dashboard,
        runs,
        run_detail,
        flows,
        deployments,
        work_pools,
        logs,
        artifacts,
        variables,
        events,
        concurrency,
        audit,
    ):
        router.include_router(module.router)
    return router


# server/app.py mounts this.
router = ui_routes()
