"""The one error shape, built here and nowhere else.

Every HTTP error Baton answers has this body:

    {"status_code": 404, "error": "not_found", "detail": "Flow run not found", "errors": []}

`detail` is one plain sentence (what the Prefect client shows the user); `errors` lists
field-level problems as {"loc": "body.state.type", "msg": ..., "type": ...} for 422s.
A database that cannot answer gives 503 with Retry-After, never a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from baton.api.responses import ORJSONResponse
from baton.db.failures import DATABASE_ERRORS, is_outage, is_unstorable
from baton.errors import BatonError, InvalidInput, Unavailable

log = logging.getLogger(__name__)


def error_response(
    status_code: int,
    detail: str,
    *,
    code: str | None = None,
    errors: Sequence[dict[str, Any]] = (),
    headers: dict[str, str] | None = None,
) -> Response:
    body = {
        "status_code": status_code,
        "error": code or _code_for(status_code),
        "detail": detail,
        "errors": list(errors),
    }
    return ORJSONResponse(body, status_code=status_code, headers=headers)


def _code_for(status_code: int) -> str:
    try:
        return HTTPStatus(status_code).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return "error"


def _loc(loc: Sequence[Any]) -> str:
    return ".".join(str(part) for part in loc)


def validation_errors(raw: Sequence[Any]) -> list[dict[str, Any]]:
    return [
        {"loc": _loc(err.get("loc", ())), "msg": _msg(err), "type": err.get("type", "")}
        for err in raw
    ]


def _msg(err: dict[str, Any]) -> str:
    # A JSON decode error says what was wrong in ctx.error, not in msg.
    if err.get("type") == "json_invalid" and (ctx := err.get("ctx")) and ctx.get("error"):
        return f"{err.get('msg', '')}: {ctx['error']}"
    return str(err.get("msg", ""))


def _validation_detail(errors: list[dict[str, Any]]) -> str:
    if not errors:
        return "Invalid request."
    first = errors[0]
    if first["type"] == "json_invalid":
        return f"Invalid request: the body is not valid JSON ({first['msg']})."
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    where = f"{first['loc']}: " if first["loc"] else ""
    return f"Invalid request: {where}{first['msg']}{more}."


async def _on_validation_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = validation_errors(exc.errors())
    return error_response(422, _validation_detail(errors), code="invalid", errors=errors)


async def _on_baton_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, BatonError)
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, Unavailable) else None
    detail, errors = exc.detail, []
    if isinstance(exc, InvalidInput) and exc.loc:
        errors = [{"loc": exc.loc, "msg": exc.detail, "type": "value_error"}]
        detail = f"Invalid request: {exc.loc}: {exc.detail}"
    return error_response(exc.status_code, detail, code=exc.code, errors=errors, headers=headers)


async def _on_http_exception(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    errors = getattr(exc, "errors", [])  # set by baton.api.routing.BodyRefused
    code = "invalid" if exc.status_code == 422 else None
    return error_response(
        exc.status_code, detail, code=code, errors=errors, headers=dict(exc.headers or {})
    )


async def _on_unstorable_value(request: Request, exc: Exception) -> Response:
    log.info("refused a value the database cannot store in %s: %s", request.url.path, exc)
    return error_response(
        422,
        "Invalid request: a value cannot be stored (a number out of range or a character "
        "the database does not accept).",
        code="invalid",
    )


async def _on_database_error(request: Request, exc: Exception) -> Response:
    if is_unstorable(exc):
        return await _on_unstorable_value(request, exc)
    if not is_outage(exc):
        return await _on_unexpected(request, exc)  # a failing query is a bug, not an outage
    log.warning("database unavailable during %s %s: %s", request.method, request.url.path, exc)
    return error_response(
        503,
        "The database is not answering; retry shortly.",
        code=Unavailable.code,
        headers={"Retry-After": str(Unavailable.retry_after)},
    )


async def _on_unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error in %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "Internal server error.", code="internal_error")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(BatonError, _on_baton_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_exception)
    for exc_type in DATABASE_ERRORS:
        app.add_exception_handler(exc_type, _on_database_error)
    # A value that passed validation but that the driver cannot bind (an integer beyond
    # 64 bits on SQLite, a NUL in a PostgreSQL text parameter) is the client's input.
    app.add_exception_handler(OverflowError, _on_unstorable_value)
    app.add_exception_handler(Exception, _on_unexpected)
