"""The role check every API route runs (a dependency of the whole API router, so a new
route is covered without anyone remembering to add it)."""

from __future__ import annotations

from starlette.requests import HTTPConnection

from baton.api.routing import route_template
from baton.core.credentials import OPEN, Principal
from baton.errors import Forbidden
from baton.security.roles import allowed


def principal_of(conn: HTTPConnection) -> Principal:
    """The caller the access middleware authenticated (an open server: anonymous admin)."""
    found = conn.scope.get("state", {}).get("principal")
    return found if isinstance(found, Principal) else OPEN


async def authorize(conn: HTTPConnection) -> None:
    if conn.scope["type"] != "http":
        return  # websockets check the token of their auth frame themselves
    principal = principal_of(conn)
    method, template = conn.scope["method"], route_template(conn.scope)
    if not allowed(principal.role, method, template):
        raise Forbidden(f"Forbidden: the {principal.role.value} role may not {method} {template}.")
