"""Routes whose JSON bodies are parsed by orjson.

orjson is several times faster than the standard library on the large bodies clients
send (log batches, filters), and it refuses what the database could not store anyway: a
string with a lone surrogate is a 422 "invalid JSON", not a driver error. NUL characters,
which PostgreSQL cannot keep in text, are replaced by U+FFFD in bodies and refused in URLs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Coroutine
from typing import Any

import orjson
from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute, Match
from starlette.types import Scope

from baton.api.compiled import compiled_handler, fast
from baton.errors import InvalidInput

_LONG_NUMBER = re.compile(rb"\d{20}")


def _without_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, list):
        return [_without_nul(item) for item in value]
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    return value


def _huge_int_at(value: Any, where: tuple[str | int, ...] = ("body",)) -> str | None:
    """Where (as "body.data.n") an integer beyond 64 bits sits in a parsed body, if anywhere."""
    if isinstance(value, int) and not isinstance(value, bool):
        return None if -(2**63) <= value < 2**64 else ".".join(map(str, where))
    items = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else ()
    )
    for key, item in items:
        if (found := _huge_int_at(item, (*where, key))) is not None:
            return found
    return None


class BodyRefused(HTTPException):
    """A body that parsed but cannot be taken as it is; rendered as a 422 naming `loc`.

    An HTTPException because FastAPI lets only those escape its body parsing unchanged.
    """

    def __init__(self, loc: str, msg: str) -> None:
        super().__init__(422, f"Invalid request: {loc}: {msg}.")
        self.errors = [{"loc": loc, "msg": msg, "type": "value_error"}]


class _OrjsonRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            body = await self.body()
            value = orjson.loads(body)
            if b"\\u0000" in body:  # the only way JSON text can carry a NUL
                value = _without_nul(value)
            # orjson turns integers beyond 64 bits into floats, silently losing digits;
            # such a body is refused instead (the exact parse runs only when one may be there).
            if _LONG_NUMBER.search(body) and (where := _huge_int_at(json.loads(body))):
                raise BodyRefused(where, "integers must fit in 64 bits")
            self._json = value
        return self._json


def _nul_in_url(request: Request) -> str | None:
    """Where a NUL character sits in the URL ("path.name", "query.key"), if anywhere."""
    for key, value in request.path_params.items():
        if "\x00" in str(value):
            return f"path.{key}"
    if b"%00" in request.scope.get("query_string", b""):
        for key, value in request.query_params.multi_items():
            if "\x00" in key + value:
                return f"query.{key}"
    return None


class BatonRoute(APIRoute):
    def __init__(self, path: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(path, *args, **kwargs)
        # What follows the path's last parameter is literal and ends every path it matches
        # ("/set_state"): a cheap test that turns most requests away before the pattern.
        self._tail = self.path_format.rpartition("}")[2]

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if not scope["path"].endswith(self._tail) and fast(scope, "routing"):
            return Match.NONE, {}
        return super().matches(scope)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = compiled_handler(self, super().get_route_handler())

        async def route(request: Request) -> Response:
            if (where := _nul_in_url(request)) is not None:
                raise InvalidInput("must not contain a NUL character", loc=where)
            return await handler(_OrjsonRequest(request.scope, request.receive))

        return route


API_PREFIX = "/api"

# The `routing` fast path (BATON_FAST_PATHS). FastAPI tries the routers in order, several
# times per request, so without it a late resource pays for matching every route of every
# router before it; and on every request it asks each router it walks whether its routes
# changed, walking the routes of that router and of every router included in it. So:
# - a resource router turns away a request whose path does not start the way one of its
#   paths does ("/api/flow_runs/…", "/api/health"), and a route one whose path does not
#   end with the route's literal tail (above), before their patterns are tried;
# - the API router, which includes resource routers only, answers "did your routes
#   change?" from its own count of changes and theirs, FastAPI's private
#   `_routes_version`, overriding its private `_get_routes_version`; so FastAPI is pinned
#   to the minor version tested (pyproject.toml).
# With it off, FastAPI matches and walks as it always does.


class ResourceRouter(APIRouter):
    """One resource's routes, mounted under API_PREFIX."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._heads: frozenset[str] | None = None
        self._heads_version = -1

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if fast(scope, "routing"):
            if self._heads_version != self._routes_version:
                self._heads, self._heads_version = _heads(self.routes), self._routes_version
            if self._heads is not None:
                path: str = scope["path"]
                if not path.startswith(API_PREFIX + "/"):
                    return Match.NONE, {}
                if path[len(API_PREFIX) + 1 :].partition("/")[0] not in self._heads:
                    return Match.NONE, {}
        return super().matches(scope)

    def include_router(self, *args: Any, **kwargs: Any) -> None:
        # The API router counts its routes' changes as its own and its resources' (below).
        raise TypeError("a resource router holds routes, not other routers")


def _heads(routes: list[BaseRoute]) -> frozenset[str] | None:
    """The first segments of the routes' paths ("flow_runs"), or None when one begins with
    a parameter and any path could be its."""
    heads = set()
    for route in routes:
        head = getattr(route, "path", "").lstrip("/").partition("/")[0]
        if not head or "{" in head:
            return None
        heads.add(head)
    return frozenset(heads)


class ApiRouter(APIRouter):
    """The /api router. It includes resource routers only, so whether its routes changed
    is its own count plus theirs (with the `routing` fast path on: `fast`)."""

    def __init__(self, *, fast: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._fast = fast
        self._resources: list[ResourceRouter] = []

    def include_router(self, router: APIRouter, *args: Any, **kwargs: Any) -> None:
        if not isinstance(router, ResourceRouter):
            raise TypeError("the API router includes resource routers only")
        super().include_router(router, *args, **kwargs)
        self._resources.append(router)

    def _get_routes_version(self, seen: set[int] | None = None) -> int:
        if not self._fast:
            return super()._get_routes_version(seen)
        return self._routes_version + sum(r._routes_version for r in self._resources)


def resource_router(**kwargs: Any) -> APIRouter:
    """A router for one resource, whose routes parse JSON with orjson."""
    return ResourceRouter(route_class=BatonRoute, **kwargs)


def route_template(scope: Scope) -> str:
    """The matched route's template with the prefixes of the routers it was included in
    ("/api/flow_runs/{run_id}"), never the raw path: ids would make every series unique."""
    template = getattr(scope.get("route"), "path", None)
    if not isinstance(template, str) or not template:
        return "unmatched"
    actual, own = scope["path"].split("/"), template.split("/")
    extra = len(actual) - len(own)  # the segments of the including routers' prefixes
    return "/".join(actual[: extra + 1]) + template if extra > 0 else template
