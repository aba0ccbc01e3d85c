"""What a client can get wrong, sent to every API route: the answer is a 4xx in the one error
shape, never a 5xx, and the server keeps working afterwards.

The walk derives its inputs from the routes themselves (their path and query parameters and the
body schema published at /api/openapi.json), so a route is covered the day it is added.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import traceback
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts

from baton.api.limits import DEFAULT_MAX_BODY_BYTES
from tests.api.test_error_shape import ERROR_KEYS, assert_error

JSON_HEADERS = {"content-type": "application/json"}
PATH_PARAM = re.compile(r"{(\w+)(?::\w+)?}")
BODY_METHODS = {"POST", "PUT", "PATCH"}
STRICT_FORMATS = {"uuid": "not-a-uuid", "date-time": "not-a-date", "date": "not-a-date"}
HUGE_NAME = secrets.token_hex(500_000)  # 1 MB of text that does not compress, unlike "x" * n
LONG_PATH_SEGMENT = "n" * 10_000
MAX_DEPTH = 4  # how deep into nested body models the walk goes
MAX_BODY_PROBES = 150  # per route, to keep the walk quick
# 422s that are about no field: the Prefect client reads this one as "CSRF protection is off".
NO_FIELD_422 = {("GET", "/api/csrf-token")}


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Like conftest's client, but an unhandled exception comes back as the 500 a real client
    would see (and its traceback is logged) instead of being raised into the test."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://baton") as client:
        yield client


@dataclass(frozen=True)
class Probe:
    label: str
    method: str
    template: str
    url: str
    content: bytes | None = None
    must_fail: bool = True  # the input is wrong: a 4xx, not merely "no 5xx"
    loc: tuple[str | int, ...] | None = None  # some errors[].loc of a 422 names this place
    status: int | None = None  # this exact status


# --- reading the OpenAPI schema -------------------------------------------------------------


Build = Callable[[Any], Any]  # a value for one field -> the whole body around it


class Schemas:
    def __init__(self, openapi: dict[str, Any], known_ids: dict[str, str]) -> None:
        self.components: dict[str, Any] = openapi.get("components", {}).get("schemas", {})
        # Fields such as flow_run_id get the id of a real row, so probes reach the database.
        self.known_ids = known_ids

    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while True:
            if "$ref" in schema:
                schema = self.components[schema["$ref"].rsplit("/", 1)[1]]
            elif len(schema.get("allOf", ())) == 1:
                schema = schema["allOf"][0]
            else:
                return schema

    def variants(self, schema: dict[str, Any]) -> list[dict[str, Any]]:
        """The alternatives a value may take (anyOf/oneOf flattened), with `null` left out."""
        schema = self.resolve(schema)
        alternatives = schema.get("anyOf") or schema.get("oneOf")
        if alternatives:
            return [v for alt in alternatives for v in self.variants(alt)]
        return [] if schema.get("type") == "null" else [schema]

    def example(self, schema: dict[str, Any], depth: int = 0, field: str = "") -> Any:
        """A small value the schema accepts, with fresh names so creates do not collide."""
        variants = self.variants(schema)
        if not variants or depth > MAX_DEPTH:
            return None
        v = variants[0]
        if "enum" in v or "const" in v:
            return v["enum"][0] if "enum" in v else v["const"]
        kind = _kind(v)
        if kind == "object":
            props = v.get("properties", {})
            return {k: self.example(props[k], depth + 1, k) for k in v.get("required", ())}
        if kind == "array":
            return [self.example(v.get("items", {}), depth + 1)] * v.get("minItems", 0)
        if kind == "string":
            fmt = v.get("format")
            if fmt == "uuid":
                return self.known_ids.get(field) or str(uuid.uuid4())
            if fmt in ("date-time", "date"):
                return "2024-01-02T03:04:05+00:00" if fmt == "date-time" else "2024-01-02"
            return f"probe-{secrets.token_hex(4)}".ljust(v.get("minLength", 0), "x")
        if kind in ("integer", "number"):
            return int(v.get("minimum", 0))
        if kind == "boolean":
            return False
        return "probe"

    def field_probes(
        self,
        schema: dict[str, Any],
        path: tuple[str | int, ...],
        build: Build,
        seen: frozenset[int],
    ) -> Iterator[tuple[tuple[str | int, ...], Any, bool, str]]:
        """(where, value, must it fail?, what) for one field and the fields inside it."""
        for where, value, must_fail, what in self._wrong_values(schema, path):
            yield where, build(value), must_fail, what
        if len(path) >= MAX_DEPTH:
            return
        for v in self.variants(schema):
            if id(v) in seen:
                continue
            inner = seen | {id(v)}
            for name, prop in v.get("properties", {}).items():

                def in_object(value: Any, v: dict[str, Any] = v, name: str = name) -> Any:
                    return build({**self.example(v), name: value})

                yield from self.field_probes(prop, (*path, name), in_object, inner)
            if isinstance(v.get("items"), dict):
                yield from self.field_probes(v["items"], (*path, 0), lambda x: build([x]), inner)
            if isinstance(v.get("additionalProperties"), dict):
                in_map: Build = lambda x: build({"k": x})  # noqa: E731
                yield from self.field_probes(v["additionalProperties"], (*path, "k"), in_map, inner)

    def _wrong_values(
        self, schema: dict[str, Any], path: tuple[str | int, ...]
    ) -> Iterator[tuple[tuple[str | int, ...], Any, bool, str]]:
        variants = self.variants(schema)
        kinds = {_kind(v) for v in variants}
        if not variants or "any" in kinds:
            return
        if "object" not in kinds:
            yield path, {"wrong": "type"}, True, "wrong type (object)"
        elif "array" not in kinds:
            yield path, ["wrong", "type"], True, "wrong type (list)"
        free_text = [v for v in variants if _kind(v) == "string" and not _strict(v)]
        if "enum" in kinds and not free_text:
            yield path, "NOT_A_REAL_VALUE", True, "bad enum value"
        for v in variants:
            if _kind(v) == "string" and _strict(v) and not free_text:
                yield path, STRICT_FORMATS[v["format"]], True, f"bad {v['format']}"
                break
        if free_text:
            limits = [v.get("maxLength") for v in free_text]
            max_len = None if None in limits else max(limits)
            leaf = path[-1] if path else ""
            if isinstance(leaf, str) and ("name" in leaf or leaf == "key"):
                yield path, HUGE_NAME, max_len is not None, "huge name"
            elif max_len is not None:
                yield path, "x" * (max_len + 1), True, "too long"
            yield path, "nul\x00byte", False, "NUL character"
            yield path, "lone \ud800 surrogate", False, "lone surrogate"
        numbers = [v for v in variants if _kind(v) in ("integer", "number")]
        if numbers:
            if all("minimum" in v for v in numbers):
                low = min(v["minimum"] for v in numbers)
                yield path, int(low) - 1, True, "below minimum"
            if all("maximum" in v for v in numbers):
                high = max(v["maximum"] for v in numbers)
                yield path, max(int(high) + 1, 10**9), True, "above maximum"
            else:
                yield path, 2**64, False, "past 64 bits"


def _kind(v: dict[str, Any]) -> str:
    if "enum" in v or "const" in v:
        return "enum"
    t = v.get("type")
    if isinstance(t, str):
        return t
    return "object" if "properties" in v else "any"


def _strict(v: dict[str, Any]) -> bool:
    return v.get("format") in STRICT_FORMATS


def _dumps(value: Any) -> bytes:
    return json.dumps(value).encode()  # ASCII with \u escapes, so a lone surrogate survives


# --- the probes for one route ---------------------------------------------------------------


def api_routes(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path template) of every HTTP route under /api; websockets are left out."""
    found = []
    for context in iter_route_contexts(app.routes):  # flattens included routers
        if isinstance(context.original_route, APIRoute) and context.path.startswith("/api/"):
            found += [(method, context.path) for method in sorted(context.methods or ())]
    return found


def route_probes(
    method: str, template: str, operation: dict[str, Any], schemas: Schemas, over_cap: bytes
) -> Iterator[Probe]:
    params = {p["name"]: p for p in operation.get("parameters", ())}
    path_names = PATH_PARAM.findall(template)
    uuid_params = {n for n, p in params.items() if p.get("schema", {}).get("format") == "uuid"}

    def unknown(name: str) -> str:
        return str(uuid.uuid4()) if name in uuid_params else f"no-such-{secrets.token_hex(4)}"

    query = {
        name: unknown(name)
        for name, p in params.items()
        if p.get("in") == "query" and p.get("required")
    }

    def url(query: dict[str, str] = query, **path_values: str) -> str:
        values = {n: path_values.get(n, unknown(n)) for n in path_names}
        path = PATH_PARAM.sub(lambda m: values[m.group(1)], template)
        return f"{path}?{urlencode(query)}" if query else path

    body_op = operation.get("requestBody")
    takes_body = body_op is not None or method in BODY_METHODS
    body_schema: dict[str, Any] = (
        body_op.get("content", {}).get("application/json", {}).get("schema", {}) if body_op else {}
    )
    base_body = schemas.example(body_schema) if body_schema else {}
    base_content = _dumps(base_body) if takes_body else None

    def probe(label: str, target: str, content: bytes | None = base_content, **kw: Any) -> Probe:
        return Probe(label, method, template, target, content, **kw)

    for name in path_names:
        if name in uuid_params:
            yield probe(f"path {name} not a UUID", url(**{name: "not-a-uuid"}), loc=("path", name))
        else:
            yield probe(f"path {name} very long", url(**{name: LONG_PATH_SEGMENT}))
            yield probe(f"path {name} NUL", url(**{name: "a%00b"}))
            yield probe(f"path {name} bad UTF-8", url(**{name: "a%ED%A0%80%FFb"}))
    if path_names:
        yield probe("unknown path ids", url())

    for name, p in params.items():
        if p.get("in") != "query":
            continue
        fmt, kind = p.get("schema", {}).get("format"), _kind(schemas.resolve(p.get("schema", {})))
        rest = {k: v for k, v in query.items() if k != name}
        if p.get("required"):
            yield probe(f"query {name} missing", url(rest), loc=("query", name))
        wrong = {**query, name: "not-a-uuid" if fmt == "uuid" else "not-a-number"}
        typed = fmt == "uuid" or kind in ("integer", "number", "boolean")
        yield probe(f"query {name} wrong type", url(wrong), must_fail=typed, loc=("query", name))
        garbage = f"{url(rest)}{'&' if rest else '?'}{quote(name)}=a%00b%ED%A0%80%FFc"
        yield probe(f"query {name} NUL and bad UTF-8", garbage, must_fail=typed)

    yield probe("body over the cap", url(), over_cap, status=413)
    if not takes_body:
        return

    target = url()
    yield probe("malformed JSON", target, b'{"name": ', loc=("body",))
    yield probe("invalid UTF-8", target, b'{"name": "\xff\xfe"}')
    top = schemas.variants(body_schema) if body_schema else []
    top_kinds = {_kind(v) for v in top}
    body_required = bool(body_op and body_op.get("required"))
    for value, kind in (([], "array"), ("a string", "string"), (42, "integer"), (True, "boolean")):
        accepted = not top_kinds or "any" in top_kinds or kind in top_kinds
        if kind == "integer" and "number" in top_kinds:
            accepted = True
        yield probe(f"body is {value!r}", target, _dumps(value), must_fail=not accepted)
    yield probe("body is null", target, b"null", must_fail=body_required)

    sent = 0
    probes = schemas.field_probes(body_schema, (), lambda body: body, frozenset())
    for path, body, must_fail, what in probes:
        if not path:
            continue  # the whole body: covered above
        sent += 1
        where = ".".join(str(p) for p in path)
        yield probe(
            f"body.{where} {what}",
            target,
            _dumps(body),
            must_fail=must_fail,
            loc=("body", *path),
        )
        if sent >= MAX_BODY_PROBES:
            return


# --- judging an answer ----------------------------------------------------------------------


def what_is_wrong(probe: Probe, response: httpx.Response) -> str | None:
    status = response.status_code
    if status >= 500:
        return "a 5xx"
    if probe.status is not None and status != probe.status:
        return f"expected {probe.status}"
    if probe.must_fail and not 400 <= status < 500:
        return "expected a 4xx"
    if status < 400:
        return None
    if response.headers.get("content-type") != "application/json":
        return "error body is not JSON"
    body = response.json()
    if not isinstance(body, dict) or set(body) != ERROR_KEYS or body["status_code"] != status:
        return "error body is not the one shape"
    if not (isinstance(body["detail"], str) and body["detail"].strip()):
        return "detail is not a non-empty string"
    if not (isinstance(body["error"], str) and body["error"]):
        return "error is not a non-empty string"
    errors = body["errors"]
    if not isinstance(errors, list):
        return "errors is not a list"
    if status != 422:
        return None
    located = errors and isinstance(errors[0].get("loc"), str) and errors[0]["loc"]
    if not located and (probe.method, probe.template) not in NO_FIELD_422:
        return "a 422 whose errors[0].loc does not say where"
    if (
        probe.must_fail
        and probe.loc
        and not any(_names(e.get("loc", ""), probe.loc) for e in errors)
    ):
        return f"no errors[].loc names {'.'.join(map(str, probe.loc))}"
    return None


def _names(loc: str, where: tuple[str | int, ...]) -> bool:
    """True if the steps of `where` appear in order in `loc`, which starts with the first one
    (pydantic may put union tags between them: "body.labels.k.str")."""
    parts = loc.split(".")
    if parts[0] != str(where[0]):
        return False
    at = 0
    for step in map(str, where):
        if step not in parts[at:]:
            return False
        at = parts.index(step, at) + 1
    return True


def _traceback(caplog: pytest.LogCaptureFixture) -> str:
    for record in reversed(caplog.records):
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            frames = traceback.extract_tb(exc.__traceback__)
            ours = [f for f in frames if "/baton/" in f.filename] or frames
            last = ours[-1] if ours else None
            where = f" at {last.filename.split('/src/')[-1]}:{last.lineno}" if last else ""
            return f"{type(exc).__name__}: {str(exc)[:300]}{where}"
    return ""


# --- the tests ------------------------------------------------------------------------------


async def test_every_route_refuses_bad_input_with_a_4xx(
    app: FastAPI, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR)
    openapi = (await client.get("/api/openapi.json")).json()
    flow = await client.post("/api/flows/", json={"name": "walk"})
    run = await client.post("/api/flow_runs/", json={"flow_id": flow.json()["id"]})
    task_run = await client.post(
        "/api/task_runs/",
        json={"flow_run_id": run.json()["id"], "task_key": "t", "dynamic_key": "0", "name": "t"},
    )
    assert task_run.status_code == 201, task_run.text
    known_ids = {
        "flow_id": flow.json()["id"],
        "flow_run_id": run.json()["id"],
        "task_run_id": task_run.json()["id"],
    }
    schemas = Schemas(openapi, known_ids)
    routes = api_routes(app)
    assert len(routes) > 30, routes  # the walk sees the routes inside the included routers

    over_cap = b" " * (DEFAULT_MAX_BODY_BYTES + 1)
    problems: list[str] = []
    sent = 0
    for method, template in routes:
        operation = openapi["paths"].get(template, {}).get(method.lower(), {})
        for probe in route_probes(method, template, operation, schemas, over_cap):
            caplog.clear()
            headers = JSON_HEADERS if probe.content is not None else None
            response = await client.request(
                probe.method, probe.url, content=probe.content, headers=headers
            )
            sent += 1
            wrong = what_is_wrong(probe, response)
            if wrong:
                url = probe.url if len(probe.url) < 100 else f"{probe.url[:90]}..."
                problems.append(
                    f"{probe.method} {url} [{probe.label}] -> {response.status_code} {wrong}: "
                    f"{response.text[:300]} {_traceback(caplog)}".rstrip()
                )
    print(f"{sent} requests to {len(routes)} routes")  # the tracebacks of any 500 are logged

    # The server is still healthy and still does ordinary work.
    assert (await client.get("/api/health")).status_code == 200
    assert (await client.get("/api/ready")).status_code == 200
    created = await client.post("/api/flows/", json={"name": "still-ok"})
    assert created.status_code == 201, created.text
    assert (await client.get(f"/api/flows/{created.json()['id']}")).json()["name"] == "still-ok"

    assert not problems, f"{len(problems)} bad answers:\n" + "\n".join(problems)


async def test_flow_run_for_an_unknown_flow(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/flow_runs/", json={"flow_id": str(uuid.uuid4())})
    body = assert_error(response, 422, "invalid")
    assert body["errors"][0]["loc"] == "body.flow_id"


async def test_set_state_with_an_unknown_state_type(client: httpx.AsyncClient) -> None:
    flow = await client.post("/api/flows/", json={"name": "f"})
    run = await client.post("/api/flow_runs/", json={"flow_id": flow.json()["id"]})
    assert run.status_code == 201, run.text
    response = await client.post(
        f"/api/flow_runs/{run.json()['id']}/set_state",
        json={"state": {"type": "EXPLODED", "name": "Exploded"}, "force": False},
    )
    body = assert_error(response, 422, "invalid")
    assert body["errors"][0]["loc"] == "body.state.type"


@pytest.mark.parametrize("limit", [-1, 10**9])
async def test_flow_run_filter_limit_out_of_range(client: httpx.AsyncClient, limit: int) -> None:
    response = await client.post("/api/flow_runs/filter", json={"limit": limit})
    body = assert_error(response, 422, "invalid")
    assert body["errors"][0]["loc"] == "body.limit"


@pytest.mark.parametrize("batch", [{"message": "hi"}, "hi", 42, None])
async def test_log_batch_that_is_not_a_list(client: httpx.AsyncClient, batch: Any) -> None:
    response = await client.post("/api/logs/", content=_dumps(batch), headers=JSON_HEADERS)
    body = assert_error(response, 422, "invalid")
    assert body["errors"][0]["loc"].startswith("body")


async def test_streamed_body_over_the_cap(client: httpx.AsyncClient) -> None:
    """No Content-Length (chunked): refused once the chunks read pass the cap."""
    chunk = b" " * (1024 * 1024)

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(DEFAULT_MAX_BODY_BYTES // len(chunk) + 1):
            yield chunk

    response = await client.post("/api/flows/", content=chunks(), headers=JSON_HEADERS)
    assert "content-length" not in response.request.headers
    body = assert_error(response, 413, "too_large")
    assert "50 MB" in body["detail"]
    assert (await client.post("/api/flows/", json={"name": "after"})).status_code == 201


async def test_declared_body_over_the_cap_is_refused_unread(client: httpx.AsyncClient) -> None:
    content = b" " * (DEFAULT_MAX_BODY_BYTES + 1)
    assert_error(await client.post("/api/flows/", content=content), 413, "too_large")
    response = await client.request("GET", "/api/health", content=content)
    assert_error(response, 413, "too_large")
