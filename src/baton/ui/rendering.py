"""What the UI sends: pages and live regions rendered from its templates, redirects with a
one-time notice, and the security headers (and new CSRF cookie) of every answer."""

from __future__ import annotations

import hashlib
import urllib.parse
from collections.abc import Awaitable, Callable, Hashable, Mapping
from typing import Any

from fastapi import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from baton import __version__
from baton.ui import auth
from baton.ui.forms import csrf_token, set_csrf_cookie
from baton.ui.params import here
from baton.ui.state import settings_of, ui_state

FLASH_COOKIE = "baton_flash"

# Headers of every UI answer: nothing but our own files may run or be framed.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}

NAV = (
    ("/", "Dashboard"),
    ("/runs", "Runs"),
    ("/flows", "Flows"),
    ("/deployments", "Deployments"),
    ("/work-pools", "Work pools"),
    ("/logs", "Logs"),
    ("/artifacts", "Artifacts"),
    ("/variables", "Variables"),
    ("/events", "Events"),
    ("/concurrency", "Concurrency"),
)


def finish(request: Request, response: Response) -> Response:
    """`response` with the security headers, and the CSRF cookie if its page made one."""
    response.headers.update(SECURITY_HEADERS)
    set_csrf_cookie(request, response)
    return response


# --- rendering --------------------------------------------------------------------------


def render_text(request: Request, template: str, context: Mapping[str, Any]) -> str:
    user = auth.current_user(request)
    audit_on = settings_of(request).auth_mode != "none" and auth.may(user, "audit")
    nav = (*NAV, ("/audit", "Audit")) if audit_on else NAV
    ctx = {
        "request": request,
        "csrf_token": csrf_token(request),
        "user": user,
        "can": lambda action: auth.may(user, action),
        "nav": nav,
        **context,
    }
    return ui_state(request).env.get_template(template).render(ctx)


def page(
    request: Request, template: str, context: Mapping[str, Any], status: int = 200
) -> Response:
    """A whole page, with the one-time notice of the previous action, if any."""
    notice = _read_flash(request.cookies.get(FLASH_COOKIE))
    body = render_text(
        request,
        template,
        {"notice": notice, "path": request.url.path, "here": here(request), **context},
    )
    response = HTMLResponse(body, status_code=status)
    if notice is not None:
        response.delete_cookie(FLASH_COOKIE, path="/")
    response.headers["Cache-Control"] = "no-cache"  # revalidate; the back button may reuse it
    return finish(request, response)


def partial(
    request: Request,
    template: str,
    context: Mapping[str, Any],
    *,
    done: bool = False,
) -> Response:
    """A live region alone, as its page renders it. Unchanged since the browser's copy
    (If-None-Match) → 304 without a body; `done` tells the script to stop polling."""
    body = render_text(request, template, context)
    etag = '"' + hashlib.sha256(body.encode()).hexdigest()[:20] + '"'
    headers = {"ETag": etag, "Cache-Control": "no-store"}
    if done:
        headers["X-Baton-Live"] = "done"
    if request.headers.get("if-none-match") == etag:
        return finish(request, Response(status_code=304, headers=headers))
    return finish(request, HTMLResponse(body, headers=headers))


async def live_partial(
    request: Request,
    token: Hashable,
    template: str,
    context: Callable[[], Awaitable[Mapping[str, Any]]],
) -> Response:
    """A live region whose version is `token`, a cheap digest of what it shows (the rows
    of a query window and their last change, say). The browser's copy is current
    (If-None-Match) → 304, without reading or rendering the region; else `context()` reads
    it and it is sent. The token is taken before the read: a change in between is sent
    again on the next poll, never missed."""
    user = auth.current_user(request)
    seed = repr((token, template, request.url.query, user.role.value if user else None))
    etag = '"' + hashlib.sha256(f"{__version__} {seed}".encode()).hexdigest()[:20] + '"'
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if request.headers.get("if-none-match") == etag:
        return finish(request, Response(status_code=304, headers=headers))
    body = render_text(request, template, await context())
    return finish(request, HTMLResponse(body, headers=headers))


# --- notices and redirects --------------------------------------------------------------


def _read_flash(raw: str | None) -> dict[str, str] | None:
    if not raw:
        return None
    kind, _, text = urllib.parse.unquote(raw).partition(":")
    if kind not in ("ok", "error") or not text:
        return None
    return {"kind": kind, "text": text[:500]}


def local_path(target: str | None, default: str) -> str:
    """`target` if it is a path on this site (no scheme, no host), else `default`."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    parts = urllib.parse.urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


def redirect(request: Request, to: str, notice: str | None = None, kind: str = "ok") -> Response:
    """303 to a path of this site, with a notice shown once on the page it leads to."""
    response = RedirectResponse(to, status_code=303)
    if notice:
        value = urllib.parse.quote(f"{kind}:{notice}"[:500])
        response.set_cookie(FLASH_COOKIE, value, httponly=True, samesite="lax", path="/")
    return finish(request, response)
