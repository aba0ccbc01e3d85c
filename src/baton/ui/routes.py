"""The web UI: server-rendered pages (Jinja2), one module per resource under `pages/`."""

from __future__ import annotations

from fastapi import APIRouter

from baton.ui.pages import (
    artifacts,
    assets,
    audit,
    concurrency,
    concurrency_edit,
    dashboard,
    deployment_edit,
    deployments,
    events,
    flows,
    login,
    logs,
    pool_edit,
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
        deployment_edit,
        work_pools,
        pool_edit,
        logs,
        artifacts,
        variables,
        events,
        concurrency,
        concurrency_edit,
        audit,
    ):
        router.include_router(module.router)
    return router


# server/app.py mounts this.
router = ui_routes()
