"""What every UI page shares: the template environment, rendering (pages and live partials),
forms with their CSRF check, redirects with a one-time notice, and HTML error pages.

The environment and the CSRF secret belong to the app: made on first use and kept on
`app.state`, never at module level.
"""

from __future__ import annotations

import hashlib
import secrets
import urllib.parse
import uuid
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from fastapi import APIRouter, Request
from fastapi.routing import APIRoute
from starlette.responses import HTMLResponse, RedirectResponse, Response

from baton import __version__
from baton.db.database import Database
from baton.errors import BatonError, NotFound
from baton.events.store import EventBus, EventStore
from baton.ui import csrf
from baton.ui.format import CANCELLABLE, FILTERS

HERE = Path(__file__).parent
STATIC = HERE / "static"
FLASH_COOKIE = "baton_flash"
MAX_FORM_BYTES = 2 * 1024 * 1024

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


@dataclass
class UIState:
    env: jinja2.Environment
    secret: bytes
    # file name → short content hash, so static URLs change whenever a file does
    asset_versions: dict[str, str] = field(default_factory=dict)


def _make_state() -> UIState:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,  # every template is HTML: escape everything not marked safe
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(FILTERS)
    versions = {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()[:10]
        for p in STATIC.iterdir()
        if p.is_file()
    }
    env.globals.update(nav=NAV, version=__version__, cancellable=CANCELLABLE)
    env.globals["asset"] = lambda name: f"/static/{name}?v={versions.get(name, '0')}"
    return UIState(env=env, secret=secrets.token_bytes(32), asset_versions=versions)


def ui_state(request: Request) -> UIState:
    state: UIState | None = getattr(request.app.state, "baton_ui", None)
    if state is None:
        state = _make_state()
        request.app.state.baton_ui = state
    return state


def database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def event_bus(request: Request) -> EventBus:
    store: EventStore = request.app.state.events
    return store.bus


# --- rendering --------------------------------------------------------------------------


def _csrf_token(request: Request) -> str:
    """This browser's token; a new one (set on the answer) when its cookie is missing."""
    token: str | None = getattr(request.state, "csrf_token", None)
    if token is not None:
        return token
    secret = ui_state(request).secret
    token = csrf.token_of(secret, request.cookies.get(csrf.COOKIE))
    if token is None:
        token, cookie = csrf.new_cookie(secret)
        request.state.new_csrf_cookie = cookie
    request.state.csrf_token = token
    return token


def _finish(request: Request, response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    cookie: str | None = getattr(request.state, "new_csrf_cookie", None)
    if cookie is not None:
        response.set_cookie(
            csrf.COOKIE, cookie, httponly=True, samesite="strict", path="/", max_age=30 * 86400
        )
    return response


def render_text(request: Request, template: str, context: Mapping[str, Any]) -> str:
    ctx = {"request": request, "csrf_token": _csrf_token(request), **context}
    return ui_state(request).env.get_template(template).render(ctx)


def page(
    request: Request, template: str, context: Mapping[str, Any], status: int = 200
) -> Response:
    """A whole page, with the one-time notice of the previous action, if any."""
    notice = _read_flash(request.cookies.get(FLASH_COOKIE))
    body = render_text(
        request,
        template,
        {"notice": notice, "path": request.url.path, "here": _here(request), **context},
    )
    response = HTMLResponse(body, status_code=status)
    if notice is not None:
        response.delete_cookie(FLASH_COOKIE, path="/")
    response.headers["Cache-Control"] = "no-cache"  # revalidate; the back button may reuse it
    return _finish(request, response)


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
        return _finish(request, Response(status_code=304, headers=headers))
    return _finish(request, HTMLResponse(body, headers=headers))


def _here(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


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
    return _finish(request, response)


# --- forms ------------------------------------------------------------------------------


class Form:
    """A posted urlencoded form: `get` for one value, `getlist` for repeated fields."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self.pairs = pairs

    def get(self, name: str, default: str = "") -> str:
        for key, value in self.pairs:
            if key == name:
                return value
        return default

    def getlist(self, name: str) -> list[str]:
        return [value for key, value in self.pairs if key == name]

    def __contains__(self, name: object) -> bool:
        return any(key == name for key, _ in self.pairs)


class Forbidden(BatonError):
    status_code = 403
    code = "forbidden"


async def read_form(request: Request) -> Form:
    """The posted form, once its CSRF token is checked (403 otherwise)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    body = await request.body()
    if kind != "application/x-www-form-urlencoded" or len(body) > MAX_FORM_BYTES:
        raise Forbidden("This address only takes forms posted from Baton's own pages.")
    pairs = urllib.parse.parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
    form = Form(pairs)
    secret = ui_state(request).secret
    if not csrf.accepted(secret, request.cookies.get(csrf.COOKIE), form.get(csrf.FIELD) or None):
        raise Forbidden(
            "The form did not come from this site or has expired: reload the page and retry."
        )
    return form


# --- parsing ----------------------------------------------------------------------------


def parse_id(raw: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise NotFound(f"{what} not found") from None


def query_list(request: Request, name: str) -> list[str]:
    """Every non-empty value of a query parameter, commas splitting values too."""
    out: list[str] = []
    for value in request.query_params.getlist(name):
        out += [part.strip() for part in value.split(",") if part.strip()]
    return out


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


# --- routes -----------------------------------------------------------------------------


class UIRoute(APIRoute):
    """A UI route: errors carrying a status (unknown ids, refused forms) become HTML pages."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except BatonError as exc:
                context = {"status": exc.status_code, "message": exc.detail}
                return page(request, "pages/error.html", context, status=exc.status_code)

        return handle


def ui_router() -> APIRouter:
    return APIRouter(include_in_schema=False, route_class=UIRoute)
