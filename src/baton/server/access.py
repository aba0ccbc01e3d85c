"""The access middleware: authenticates every /api request (except the public ones) before
it reaches a route, and records mutating calls in the audit log. What a caller's role may
do is decided per route by `baton.api.access.authorize`."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from baton.api.errors import error_response
from baton.api.request_metrics import StatusNote
from baton.api.routing import route_template
from baton.clock import utcnow
from baton.core.api_keys import note_use
from baton.core.audit import AuditLog
from baton.core.credentials import Principal, authenticate
from baton.errors import Unauthorized
from baton.security.roles import PUBLIC, is_read
from baton.settings import Settings

# A key's last use is written at most this often (seconds).
LAST_USED_EVERY = 60.0


class AccessMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self._noted: dict[uuid.UUID, float] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if (
            scope["type"] != "http"
            or self.settings.auth_mode == "none"
            or not path.startswith("/api/")
            or path in PUBLIC
        ):
            await self.app(scope, receive, send)
            return
        state: Any = scope["app"].state
        headers = dict(scope["headers"])
        authorization = headers.get(b"authorization", b"").decode("latin-1") or None
        try:
            principal = await authenticate(self.settings, state.db, authorization, utcnow())
        except Unauthorized as exc:
            challenge = "Basic" if self.settings.auth_mode == "basic" else "Bearer"
            response = error_response(
                401, exc.detail, code=exc.code, headers={"WWW-Authenticate": challenge}
            )
            await response(scope, receive, send)
            self._audit(state, scope, None, 401)
            return
        scope.setdefault("state", {})["principal"] = principal
        self._note_use(state, principal)
        noted = StatusNote(send)
        try:
            await self.app(scope, receive, noted)
        finally:
            self._audit(state, scope, principal, noted.status)

    def _audit(self, state: Any, scope: Scope, principal: Principal | None, status: int) -> None:
        method = scope["method"]
        template = route_template(scope)
        if template == "unmatched":
            template = scope["path"]
        if is_read(method, template):
            return
        audit: AuditLog | None = getattr(state, "audit", None)
        if audit is None:
            return
        client = scope.get("client")
        audit.record(
            utcnow(),
            principal.name if principal else "unauthenticated",
            principal.role.value if principal else None,
            f"{method} {template}",
            scope["path"],
            status,
            client[0] if client else None,
        )

    def _note_use(self, state: Any, principal: Principal) -> None:
        if principal.key_id is None:
            return
        now = time.monotonic()
        if now - self._noted.get(principal.key_id, -LAST_USED_EVERY) < LAST_USED_EVERY:
            return
        self._noted[principal.key_id] = now
        task = asyncio.create_task(note_use(state.db, principal.key_id, utcnow()))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
