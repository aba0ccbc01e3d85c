"""Who is using the UI, and what they may do there.

Signing in checks `core.users.check_password` (or, under basic auth, the auth string's
user:password, as an admin) and hands out a signed session cookie; every request checks
that cookie against the database again, so a removed, disabled or re-passworded user is
signed out at once.

Each UI action is the API route that does the same thing, and a role may take it in the
UI exactly when `security.roles.allowed` lets it call that route: the UI and the API agree.
A worker is treated as a viewer here: its writes are for workers and flows, not people.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable
from typing import Protocol

from fastapi import Request

from baton.core.credentials import Principal
from baton.core.users import check_password, enabled_user
from baton.db.database import Database
from baton.errors import Forbidden
from baton.security import sessions
from baton.security.roles import Role, allowed
from baton.settings import Settings

SESSION_COOKIE = "baton_session"
SESSION_SECONDS = sessions.SESSION_HOURS * 3600

_DEPLOYMENT = "/api/deployments/{deployment_id}"
_SCHEDULE = _DEPLOYMENT + "/schedules/{schedule_id}"
_POOL = "/api/work_pools/{name}"
_QUEUE = _POOL + "/queues/{queue_name}"
_LIMIT = "/api/v2/concurrency_limits/{id_or_name}"
_TAG_LIMIT = "/api/concurrency_limits/tag/{tag}"

# action → the API route it corresponds to, and what it is in words (for refusals).
ACTIONS: dict[str, tuple[str, str, str]] = {
    "cancel": ("POST", "/api/flow_runs/{run_id}/set_state", "cancel flow runs"),
    "delete": ("DELETE", "/api/flow_runs/{run_id}", "delete flow runs"),
    "run": ("POST", "/api/deployments/{deployment_id}/create_flow_run", "start flow runs"),
    "pause": ("POST", "/api/deployments/{deployment_id}/pause_deployment", "pause deployments"),
    "resume": (
        "POST",
        "/api/deployments/{deployment_id}/resume_deployment",
        "resume deployments",
    ),
    "variable-create": ("POST", "/api/variables/", "create variables"),
    "variable-edit": ("PATCH", "/api/variables/{variable_id}", "change variables"),
    "variable-delete": ("DELETE", "/api/variables/{variable_id}", "delete variables"),
    "audit": ("GET", "/api/audit", "read the audit log"),
    "deployment-edit": ("PATCH", _DEPLOYMENT, "change deployments"),
    "deployment-delete": ("DELETE", _DEPLOYMENT, "delete deployments"),
    "schedule-create": ("POST", _DEPLOYMENT + "/schedules", "add schedules"),
    "schedule-edit": ("PATCH", _SCHEDULE, "change schedules"),
    "schedule-delete": ("DELETE", _SCHEDULE, "delete schedules"),
    "pool-create": ("POST", "/api/work_pools/", "create work pools"),
    "pool-edit": ("PATCH", _POOL, "change work pools"),
    "pool-delete": ("DELETE", _POOL, "delete work pools"),
    "queue-create": ("POST", _POOL + "/queues", "create work queues"),
    "queue-edit": ("PATCH", _QUEUE, "change work queues"),
    "queue-delete": ("DELETE", _QUEUE, "delete work queues"),
    "limit-create": ("POST", "/api/v2/concurrency_limits/", "create concurrency limits"),
    "limit-edit": ("PATCH", _LIMIT, "change concurrency limits"),
    "limit-delete": ("DELETE", _LIMIT, "delete concurrency limits"),
    "tag-limit-create": ("POST", "/api/concurrency_limits/", "set tag concurrency limits"),
    "tag-limit-delete": ("DELETE", _TAG_LIMIT, "delete tag concurrency limits"),
    "tag-limit-reset": ("POST", _TAG_LIMIT + "/reset", "reset tag concurrency limits"),
}


class Fields(Protocol):
    def get(self, name: str, default: str = "") -> str: ...


def _by_field(name: str, value: str, then: str, otherwise: str) -> Callable[[Fields], str]:
    return lambda form: then if form.get(name) == value else otherwise


# UI route that takes a form → the action it takes (None: anyone may post it). A form
# route missing here is refused to everyone but admins.
FORMS: dict[str, Callable[[Fields], str | None]] = {
    "/login": lambda _: None,
    "/logout": lambda _: None,
    "/runs/bulk": _by_field("action", "delete", "delete", "cancel"),
    "/runs/{raw_id}/cancel": lambda _: "cancel",
    "/runs/{raw_id}/delete": lambda _: "delete",
    "/runs/{raw_id}/retry": lambda _: "run",
    "/deployments/{raw_id}/pause": _by_field("paused", "true", "pause", "resume"),
    "/deployments/{raw_id}/run": lambda _: "run",
    "/variables": lambda _: "variable-create",
    "/variables/{raw_id}": _by_field("action", "delete", "variable-delete", "variable-edit"),
    "/deployments/{raw_id}/edit": lambda _: "deployment-edit",
    "/deployments/{raw_id}/delete": lambda _: "deployment-delete",
    "/deployments/{raw_id}/schedules": lambda _: "schedule-create",
    "/deployments/{raw_id}/schedules/{schedule_id}": _by_field(
        "action", "delete", "schedule-delete", "schedule-edit"
    ),
    "/work-pools": lambda _: "pool-create",
    "/work-pools/{name}/edit": lambda _: "pool-edit",
    "/work-pools/{name}/pause": lambda _: "pool-edit",
    "/work-pools/{name}/delete": lambda _: "pool-delete",
    "/work-pools/{name}/queues": lambda _: "queue-create",
    "/work-pools/{name}/queues/{queue_name}": _by_field(
        "action", "delete", "queue-delete", "queue-edit"
    ),
    "/concurrency/limits": lambda _: "limit-create",
    "/concurrency/limits/{raw_id}": _by_field("action", "delete", "limit-delete", "limit-edit"),
    "/concurrency/tags": lambda form: {
        "delete": "tag-limit-delete",
        "reset": "tag-limit-reset",
    }.get(form.get("action"), "tag-limit-create"),
}


def form_action(template: str, form: Fields) -> str | None:
    decide = FORMS.get(template)
    return "unlisted" if decide is None else decide(form)


def ui_role(role: Role) -> Role:
    return Role.VIEWER if role == Role.WORKER else role


def may(user: Principal | None, action: str) -> bool:
    """May `user` take `action` in the UI?"""
    if user is None:
        return False
    found = ACTIONS.get(action)
    if found is None:
        return user.role == Role.ADMIN
    method, template, _ = found
    return allowed(ui_role(user.role), method, template)


def refusal(user: Principal, action: str) -> str:
    words = ACTIONS[action][2] if action in ACTIONS else "post this form"
    return f"Forbidden: the {user.role.value} role may not {words}."


def current_user(request: Request) -> Principal | None:
    """Who the gate found signed in (anyone is an admin when access control is off)."""
    user: Principal | None = getattr(request.state, "user", None)
    return user


def require(request: Request, action: str) -> None:
    """403 unless the signed-in user may take `action`."""
    user = current_user(request)
    if user is None:
        raise Forbidden("Sign in first.")
    if not may(user, action):
        raise Forbidden(refusal(user, action))


# --- sessions -----------------------------------------------------------------------------


def _basic_user(settings: Settings, name: str, password: str) -> bool:
    if settings.auth_mode != "basic" or not settings.auth_string:
        return False
    return hmac.compare_digest(f"{name}:{password}".encode(), settings.auth_string.encode())


async def sign_in(
    db: Database, settings: Settings, key: bytes, name: str, password: str
) -> tuple[Principal, str] | None:
    """The user and their session cookie if the name and password are right, else None."""
    expires = int(time.time()) + SESSION_SECONDS
    role = await check_password(db, name, password)
    found = await enabled_user(db, name) if role is not None else None
    if found is not None:
        role, hashed = found
        made = sessions.Session(name, role.value, expires, "user", sessions.stamp(key, hashed))
        return Principal(name, role), sessions.encode(key, made)
    if _basic_user(settings, name, password):
        stamp = sessions.stamp(key, settings.auth_string or "")
        made = sessions.Session(name, Role.ADMIN.value, expires, "basic", stamp)
        return Principal(name, Role.ADMIN), sessions.encode(key, made)
    return None


async def signed_in(
    db: Database, settings: Settings, key: bytes, cookie: str | None
) -> Principal | None:
    """The user a session cookie belongs to, if it is ours, current and still valid."""
    session = sessions.decode(key, cookie, time.time())
    if session is None:
        return None
    if session.kind == "basic":
        expected = sessions.stamp(key, settings.auth_string or "")
        if settings.auth_mode == "basic" and hmac.compare_digest(session.stamp, expected):
            return Principal(session.name, Role.ADMIN)
        return None
    found = await enabled_user(db, session.name)
    if found is None:
        return None
    role, hashed = found
    if not hmac.compare_digest(session.stamp, sessions.stamp(key, hashed)):
        return None
    return Principal(session.name, role)  # the role now, should it have changed
