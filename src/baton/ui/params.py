"""What a request's URL says: the id in its path, its query parameters, the address to
come back to, and whether it came over HTTPS."""

from __future__ import annotations

import uuid

from fastapi import Request

from baton.errors import NotFound


def parse_id(raw: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise NotFound(f"{what} not found") from None


def query_int(request: Request, name: str, default: int, allowed: tuple[int, ...]) -> int:
    try:
        value = int(request.query_params.get(name, default))
    except ValueError:
        return default
    return value if value in allowed else default


def query_offset(request: Request, cap: int = 100_000) -> int:
    """?offset= for the short lists that page by offset (flows, deployments, variables)."""
    try:
        return max(0, min(int(request.query_params.get("offset", "0")), cap))
    except ValueError:
        return 0


def here(request: Request) -> str:
    """This request's path and query: where to come back to."""
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def is_https(request: Request) -> bool:
    return request.url.scheme == "https"
