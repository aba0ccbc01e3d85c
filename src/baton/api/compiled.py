"""Request handlers built once for the shape of a route, instead of FastAPI's general one.

On every request FastAPI's handler solves the route's dependencies afresh, walking a
general tree (sub-dependencies, caches, overrides, generators, scopes): a third of a state
change's time in the request path, in py-spy. Most of Baton's routes have one simple
shape: path parameters, at most one JSON body, dependencies that take the request alone
(the role check, the database, the event bus) and an endpoint that returns a Response.
For those the handler is built here once: the dependencies and the parameters' validators
in lists, run in FastAPI's order (body parsed, dependencies, path, body validated), with
FastAPI's errors (a 422 naming "path.run_id" or "body.state.type", "JSON decode error"
for bad JSON, 400 for a body that cannot be read). Any other route keeps FastAPI's
handler, and so does every route while a dependency is overridden (as tests do).

The `compiled` fast path (BATON_FAST_PATHS, read from the app's state per request): it
reads FastAPI's private `_effective_route_context_var` and `_embed_body_fields` and the
fields of its `Dependant`, so FastAPI is pinned to the minor version tested
(pyproject.toml). With it off, every route runs FastAPI's own handler.
"""

from __future__ import annotations

import copy
import email.message
import functools
import inspect
import json
import typing
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import fastapi.routing
from fastapi import HTTPException, params
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


def fast(scope: Scope, layer: str) -> bool:
    """Is the fast path `layer` on for the app serving this request? (`create_app` puts
    the settings' fast paths on the app's state; an app that says nothing has them all.)"""
    on = getattr(scope["app"].state, "fast_paths", None)
    return on is None or layer in on


_UNDEFINED: Any = object()


@dataclass(frozen=True)
class _Dependency:
    name: str | None  # the endpoint's parameter it fills; None for a check such as the role's
    call: Callable[..., Coroutine[Any, Any, Any]]
    request_arg: str | None  # the keyword it takes the request by, if any


@dataclass(frozen=True)
class _Plan:
    endpoint: Callable[..., Coroutine[Any, Any, Any]]
    dependencies: tuple[_Dependency, ...]
    path: tuple[tuple[str, str, Any], ...]  # (parameter, path key, field)
    body: tuple[str, Any] | None  # (parameter, field)
    request_args: tuple[str, ...]  # the endpoint's own Request / HTTPConnection parameters
    strict_content_type: bool


def compiled_handler(route: APIRoute, fallback: Handler) -> Handler:
    """A handler for `route` built once, or `fallback` (FastAPI's) for a route of another
    shape. Called from the route's get_route_handler, where FastAPI has set the context
    of the router it is being included in (with that router's dependencies)."""
    # The route as included (its dependant holds the including routers' dependencies too);
    # read where FastAPI's own get_route_handler reads it.
    context_var = getattr(fastapi.routing, "_effective_route_context_var", None)
    context = context_var.get() if context_var is not None else None
    effective: Any = context if getattr(context, "original_route", None) is route else route
    plan = _plan(effective)
    if plan is None:
        return fallback
    provider = effective.dependency_overrides_provider

    async def handler(request: Request) -> Response:
        if not fast(request.scope, "compiled") or (
            provider is not None and getattr(provider, "dependency_overrides", None)
        ):
            return await fallback(request)
        return await _run(plan, request)

    return handler


def _plan(route: Any) -> _Plan | None:
    dependant: Dependant = route.dependant
    call = dependant.call
    if (
        call is None
        or not inspect.iscoroutinefunction(call)
        or not _returns_response(call)
        or route.response_field is not None
        or getattr(route, "is_json_stream", False)
        or dependant.query_params
        or dependant.header_params
        or dependant.cookie_params
        or not _plain(dependant)
        or len(dependant.body_params) > 1
        or route._embed_body_fields
    ):
        return None
    dependencies = []
    for sub in dependant.dependencies:
        if (dependency := _request_only(sub)) is None:
            return None
        dependencies.append(dependency)
    if len({d.call for d in dependencies}) != len(dependencies):
        return None  # FastAPI would call a repeated dependency once; keep it simple
    path = []
    for field in dependant.path_params:
        if _is_model(field.field_info.annotation):
            return None
        path.append((field.name, field.alias, field))
    body = None
    if dependant.body_params:
        field = dependant.body_params[0]
        if isinstance(field.field_info, params.Form):
            return None
        body = (field.name, field)
    request_args = tuple(
        name
        for name in (dependant.request_param_name, dependant.http_connection_param_name)
        if name is not None
    )
    return _Plan(
        endpoint=call,
        dependencies=tuple(dependencies),
        path=tuple(path),
        body=body,
        request_args=request_args,
        strict_content_type=bool(getattr(route, "strict_content_type", True)),
    )


def _plain(dependant: Dependant) -> bool:
    """No parameter that needs FastAPI's machinery (background tasks, the response to
    add headers to, security scopes, a websocket)."""
    return (
        dependant.background_tasks_param_name is None
        and dependant.response_param_name is None
        and dependant.security_scopes_param_name is None
        and dependant.websocket_param_name is None
    )


def _request_only(sub: Dependant) -> _Dependency | None:
    """A dependency whose only input is the request, as a plan step; None otherwise."""
    call = sub.call
    if (
        call is None
        or not inspect.iscoroutinefunction(call)
        or sub.dependencies
        or sub.path_params
        or sub.query_params
        or sub.header_params
        or sub.cookie_params
        or sub.body_params
        or not _plain(sub)
        or (sub.request_param_name and sub.http_connection_param_name)
    ):
        return None
    return _Dependency(sub.name, call, sub.request_param_name or sub.http_connection_param_name)


def _returns_response(call: Callable[..., Any]) -> bool:
    try:
        returned = typing.get_type_hints(call).get("return")
    except Exception:  # an annotation that does not resolve: leave the route to FastAPI
        return False
    return isinstance(returned, type) and issubclass(returned, Response)


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _missing(loc: tuple[str, ...]) -> dict[str, Any]:
    return {"type": "missing", "loc": loc, "msg": "Field required", "input": None}


@functools.lru_cache(maxsize=64)
def _is_json(content_type: str) -> bool:
    """Whether FastAPI parses a body with this Content-Type as JSON (its own test)."""
    message = email.message.Message()
    message["content-type"] = content_type
    if message.get_content_maintype() != "application":
        return False
    subtype = message.get_content_subtype()
    return subtype == "json" or subtype.endswith("+json")


async def _read_body(plan: _Plan, request: Request) -> Any:
    try:
        body_bytes = await request.body()
        if not body_bytes:
            return _UNDEFINED
        content_type = request.headers.get("content-type")
        if content_type:
            return await request.json() if _is_json(content_type) else body_bytes
        return body_bytes if plan.strict_content_type else await request.json()
    except json.JSONDecodeError as exc:  # orjson's error is one too
        error = {
            "type": "json_invalid",
            "loc": ("body", exc.pos),
            "msg": "JSON decode error",
            "input": {},
            "ctx": {"error": exc.msg},
        }
        raise RequestValidationError([error], body=exc.doc) from exc
    except HTTPException:
        raise
    except Exception as exc:
        raise HTTPException(400, "There was an error parsing the body") from exc


async def _run(plan: _Plan, request: Request) -> Response:
    body = _UNDEFINED if plan.body is None else await _read_body(plan, request)
    values: dict[str, Any] = {}
    for dependency in plan.dependencies:
        if dependency.request_arg is None:
            solved = await dependency.call()
        else:
            solved = await dependency.call(**{dependency.request_arg: request})
        if dependency.name is not None:
            values[dependency.name] = solved
    errors: list[Any] = []
    path_params = request.path_params
    for name, key, field in plan.path:
        value, found = field.validate(path_params.get(key), values, loc=("path", key))
        if found:
            errors.extend(found)
        else:
            values[name] = value
    if plan.body is not None:
        name, field = plan.body
        if body is not _UNDEFINED:
            value, found = field.validate(body, values, loc=("body",))
        elif field.field_info.is_required():
            value, found = None, [_missing(("body",))]
        elif field.field_info.validate_default:
            value, found = field.validate(copy.deepcopy(field.default), values, loc=("body",))
        else:
            value, found = copy.deepcopy(field.default), []
        if found:
            errors.extend(found)
        else:
            values[name] = value
    if errors:
        raise RequestValidationError(errors, body=None if body is _UNDEFINED else body)
    for name in plan.request_args:
        values[name] = request
    response = await plan.endpoint(**values)
    assert isinstance(response, Response), "compiled only for endpoints that return a Response"
    return response
