"""A cap on the size of request bodies, so one client cannot make the server buffer gigabytes.

FastAPI's own `max_body_size` answers a declared-too-large body with a text/plain 413 that
skips our error handlers, so this middleware refuses it in the one error shape instead.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from baton.api.errors import error_response

DEFAULT_MAX_BODY_BYTES = 50 * 1024 * 1024
_MB = 1024 * 1024


class BodyTooLarge(HTTPException):
    """Raised from `receive` once a streamed body passes the cap. It is an HTTPException so
    FastAPI's body parsing lets it through instead of turning it into a 400."""

    def __init__(self, detail: str) -> None:
        super().__init__(status_code=413, detail=detail)


class BodyLimitMiddleware:
    """Refuses request bodies over `max_body_bytes` with 413: up front when Content-Length
    says so, otherwise as soon as the chunks read so far pass the cap."""

    def __init__(self, app: ASGIApp, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        if max_body_bytes < 0:
            raise ValueError("max_body_bytes must be >= 0")
        self.app = app
        self.max_body_bytes = max_body_bytes
        whole_mb = max_body_bytes and max_body_bytes % _MB == 0
        size = f"{max_body_bytes // _MB} MB" if whole_mb else f"{max_body_bytes} bytes"
        self.detail = f"The request body is larger than the limit of {size}."

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_body_bytes:
            await error_response(413, self.detail, code="too_large")(scope, receive, send)
            return

        received = 0
        overflowed = False
        response_started = False

        async def counting_receive() -> Message:
            nonlocal received, overflowed
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    overflowed = True
                    raise BodyTooLarge(self.detail)
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal response_started
            if overflowed and not response_started:
                return  # whatever the app made of the cut-off body is replaced by our 413
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not overflowed or response_started:
                raise
        if overflowed and not response_started:
            await error_response(413, self.detail, code="too_large")(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    value = Headers(scope=scope).get("content-length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None  # the server rejects a malformed Content-Length; count the chunks anyway
