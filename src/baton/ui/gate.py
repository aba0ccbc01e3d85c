"""The gate every UI route passes: signed in (when access control is on), errors carrying
a status shown as HTML pages, and audited when it changes something."""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request
from fastapi.routing import APIRoute
from starlette.responses import Response

from baton.clock import utcnow
from baton.core.audit import AuditLog
from baton.core.credentials import OPEN, Principal
from baton.errors import BatonError
from baton.ui import auth
from baton.ui.params import here
from baton.ui.rendering import finish, local_path, page, redirect
from baton.ui.state import database, settings_of, ui_state


class UIRoute(APIRoute):
    """A UI route: only for a signed-in user when access control is on; a change it makes
    is audited; errors carrying a status (unknown ids, refused forms) become HTML pages."""

    public = False  # open to everyone: the sign-in page and the static files

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        template, public = self.path, self.public

        async def gated(request: Request) -> Response:
            try:
                if not public:
                    request.state.user = await find_user(request)
                    if request.state.user is None:
                        return _sign_in_first(request, template)
                return await handler(request)
            except BatonError as exc:
                context = {"status": exc.status_code, "message": exc.detail}
                return page(request, "pages/error.html", context, status=exc.status_code)

        async def handle(request: Request) -> Response:
            request.state.route_template = template
            status = 500  # unless an answer is made
            try:
                response = await gated(request)
                status = response.status_code
                return response
            finally:
                if request.method not in ("GET", "HEAD"):
                    _audit(request, template, status)

        return handle


class PublicUIRoute(UIRoute):
    public = True


def ui_router(public: bool = False) -> APIRouter:
    return APIRouter(include_in_schema=False, route_class=PublicUIRoute if public else UIRoute)


async def find_user(request: Request) -> Principal | None:
    """The user of this request's session cookie (OPEN when access control is off)."""
    settings = settings_of(request)
    if settings.auth_mode == "none":
        return OPEN
    cookie = request.cookies.get(auth.SESSION_COOKIE)
    return await auth.signed_in(database(request), settings, ui_state(request).session_key, cookie)


def _sign_in_first(request: Request, template: str) -> Response:
    """Live regions answer 401 (the script reloads the page); pages go to the sign-in
    page and come back; a form posted after the session ended is not acted on."""
    if "/live/" in template:
        return finish(request, Response("Sign in first.", status_code=401))
    if request.method in ("GET", "HEAD"):
        back = here(request)
        return redirect(request, "/login?" + urllib.parse.urlencode({"next": back}))
    referer = urllib.parse.urlsplit(request.headers.get("referer", ""))
    same_site = referer.netloc in ("", request.url.netloc)
    back = local_path(referer.path + (f"?{referer.query}" if referer.query else ""), "/")
    notice = "Your session ended before that was done: sign in, then try again."
    target = "/login?" + urllib.parse.urlencode({"next": back if same_site else "/"})
    return redirect(request, target, notice, "error")


def _audit(request: Request, template: str, status: int) -> None:
    """A UI change, in the same log as the API's, with the action the form took."""
    audit: AuditLog | None = getattr(request.app.state, "audit", None)
    if audit is None:
        return
    user = auth.current_user(request)
    label: str | None = getattr(request.state, "audit_label", None)
    obj: str | None = getattr(request.state, "audit_object", None)
    audit.record(
        utcnow(),
        user.name if user is not None else "unauthenticated",
        user.role.value if user is not None else None,
        f"UI {request.method} {template}" + (f" {label}" if label else ""),
        obj or request.url.path,
        status,
        request.client.host if request.client else None,
    )


def audit_object(request: Request, description: str) -> None:
    """Name what a form acted on, when the path alone does not (the runs of a bulk action)."""
    request.state.audit_object = description
