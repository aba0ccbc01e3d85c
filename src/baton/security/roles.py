"""Roles and what each may do, decided from a route's method and path template alone, so a
new route is covered by default: a GET (or a POST that only queries) is a read; anything
else is a write, which only developers and admins may make unless the route is one a worker
or a flow process needs.

- viewer: every read;
- worker: every read, and the writes a worker, a runner and a flow process make;
- developer: everything on flows, runs, deployments, pools, variables, artifacts, limits;
- admin: everything, including what only admins may see (the audit log).
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    DEVELOPER = "developer"
    WORKER = "worker"
    VIEWER = "viewer"


# Paths anyone may call, signed in or not.
PUBLIC = frozenset({"/api/health", "/api/ready", "/api/admin/version"})

# POSTs that only read.
_QUERY_SUFFIXES = ("/filter", "/count", "/paginate", "/filter/next")

# Reads only admins may make.
_ADMIN_READS = frozenset({"/api/audit"})

# Writes a worker, a runner (flow.serve) or a flow process makes.
WORKER_WRITES = frozenset(
    {
        ("POST", "/api/flows/"),
        ("POST", "/api/flow_runs/"),
        ("PATCH", "/api/flow_runs/{run_id}"),
        ("PATCH", "/api/flow_runs/{run_id}/labels"),
        ("POST", "/api/flow_runs/{run_id}/set_state"),
        ("POST", "/api/task_runs/"),
        ("POST", "/api/task_runs/{run_id}/set_state"),
        ("POST", "/api/logs/"),
        ("POST", "/api/artifacts/"),
        ("PATCH", "/api/artifacts/{artifact_id}"),
        ("POST", "/api/variables/"),
        ("PATCH", "/api/variables/name/{name}"),
        ("POST", "/api/deployments/get_scheduled_flow_runs"),
        ("POST", "/api/deployments/{deployment_id}/create_flow_run"),
        ("POST", "/api/work_pools/"),  # a worker creates its pool when it is missing
        ("POST", "/api/work_pools/{name}/workers/heartbeat"),
        ("POST", "/api/work_pools/{pool_name}/get_scheduled_flow_runs"),
        ("POST", "/api/concurrency_limits/increment"),
        ("POST", "/api/concurrency_limits/decrement"),
        ("POST", "/api/v2/concurrency_limits/increment"),
        ("POST", "/api/v2/concurrency_limits/increment-with-lease"),
        ("POST", "/api/v2/concurrency_limits/decrement"),
        ("POST", "/api/v2/concurrency_limits/decrement-with-lease"),
        ("POST", "/api/v2/concurrency_limits/leases/{lease_id}/renew"),
    }
)


def is_read(method: str, template: str) -> bool:
    return method in ("GET", "HEAD", "OPTIONS") or (
        method == "POST" and template.endswith(_QUERY_SUFFIXES)
    )


def allowed(role: Role, method: str, template: str) -> bool:
    """May `role` call `method template`?"""
    if role == Role.ADMIN or template in PUBLIC:
        return True
    if template in _ADMIN_READS:
        return False
    if is_read(method, template):
        return True
    if role == Role.DEVELOPER:
        return True
    return role == Role.WORKER and (method, template) in WORKER_WRITES


def parse_role(value: str) -> Role:
    try:
        return Role(value.lower())
    except ValueError:
        names = ", ".join(r.value for r in Role)
        raise ValueError(f"unknown role {value!r}; roles are {names}") from None
