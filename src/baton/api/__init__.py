"""The Prefect-compatible REST API, one module per resource, mounted under /api."""

from __future__ import annotations

from fastapi import Depends

from baton.api import (
    admin,
    artifacts,
    automations,
    collections,
    concurrency,
    deployments,
    events,
    flow_runs,
    flows,
    health,
    logs,
    metrics,
    task_runs,
    variables,
    work_pool_runs,
    work_pools,
    work_queues,
    worker_channel,
)
from baton.api.access import authorize
from baton.api.routing import API_PREFIX, ApiRouter


def api_router(fast_routing: bool = True) -> ApiRouter:
    # Every route checks the caller's role (`authorize`); the access middleware has
    # checked their credentials before.
    router = ApiRouter(prefix=API_PREFIX, dependencies=[Depends(authorize)], fast=fast_routing)
    for module in (
        health,
        metrics,
        admin,
        flows,
        flow_runs,
        task_runs,
        deployments,
        work_pool_runs,
        automations,
        variables,
        artifacts,
        logs,
        events,
        work_pools,
        work_queues,
        worker_channel,
        collections,
        concurrency,
    ):
        router.include_router(module.router)
    router.include_router(flow_runs.states)
    router.include_router(task_runs.states)
    router.include_router(concurrency.tag_router)
    return router
