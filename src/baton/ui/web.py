"""What every UI page shares: the template environment, rendering (pages and live partials),
forms with their CSRF and role checks, redirects with a one-time notice, HTML error pages,
and the gate every UI route passes: signed in (when access control is on), and audited
when it changes something.

The environment, the signing keys and the sign-in throttle belong to the app: made on
first use and kept on `app.state`, never at module level.
"""

from __future__ import annotations

import hashlib
import urllib.parse
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Hashable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
from fastapi import APIRouter, Request
from fastapi.routing import APIRoute
from starlette.responses import HTMLResponse, RedirectResponse, Response

from baton import __version__
from baton.clock import utcnow
from baton.core.audit import AuditLog
from baton.core.credentials import OPEN, Principal
from baton.db.database import Database
from baton.errors import BatonError, Forbidden, NotFound
from baton.events.store import EventBus, EventStore
from baton.security import sessions
from baton.settings import Settings
from baton.ui import auth, csrf
from baton.ui.format import CANCELLABLE, FILTERS
from baton.ui.throttle import LoginThrottle

if TYPE_CHECKING:  # the UI only wakes the services the app started
    from baton.services import Services

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
    secret: bytes  # signs CSRF cookies
    session_key: bytes  # signs session cookies
    # file name → short content hash, so static URLs change whenever a file does
    asset_versions: dict[str, str] = field(default_factory=dict)
    throttle: LoginThrottle = field(default_factory=LoginThrottle)


def _make_state(settings: Settings) -> UIState:
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
    env.globals.update(
        version=__version__,
        cancellable=CANCELLABLE,
        auth_on=settings.auth_mode != "none",
        exposed=settings.exposed_without_auth,
    )
    env.globals["asset"] = lambda name: f"/static/{name}?v={versions.get(name, '0')}"
    secret = sessions.load_secret(settings)
    return UIState(
        env=env,
        secret=sessions.derive(secret, "csrf"),
        session_key=sessions.derive(secret, "session"),
        asset_versions=versions,
    )


def ui_state(request: Request) -> UIState:
    state: UIState | None = getattr(request.app.state, "baton_ui", None)
    if state is None:
        state = _make_state(settings_of(request))
        request.app.state.baton_ui = state
    return state


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


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
            csrf.COOKIE,
            cookie,
            httponly=True,
            samesite="strict",
            secure=is_https(request),
            path="/",
            max_age=30 * 86400,
        )
    return response


def is_https(request: Request) -> bool:
    return request.url.scheme == "https"


def current_user(request: Request) -> Principal | None:
    """Who the gate found signed in (anyone is an admin when access control is off)."""
    user: Principal | None = getattr(request.state, "user", None)
    return user


def require(request: Request, action: str) -> None:
    """403 unless the signed-in user may take `action`."""
    user = current_user(request)
    if user is None:
        raise Forbidden("Sign in first.")
    if not auth.may(user, action):
        raise Forbidden(auth.refusal(user, action))


def render_text(request: Request, template: str, context: Mapping[str, Any]) -> str:
    user = current_user(request)
    audit_on = settings_of(request).auth_mode != "none" and auth.may(user, "audit")
    nav = (*NAV, ("/audit", "Audit")) if audit_on else NAV
    ctx = {
        "request": request,
        "csrf_token": _csrf_token(request),
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
    user = current_user(request)
    seed = repr((token, template, request.url.query, user.role.value if user else None))
    etag = '"' + hashlib.sha256(f"{__version__} {seed}".encode()).hexdigest()[:20] + '"'
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if request.headers.get("if-none-match") == etag:
        return _finish(request, Response(status_code=304, headers=headers))
    body = render_text(request, template, await context())
    return _finish(request, HTMLResponse(body, headers=headers))


def nudge_scheduler(request: Request) -> None:
    """Wake the scheduler after a schedule or a pause changed (a no-op when it is off)."""
    services: Services | None = getattr(request.app.state, "services", None)
    if services is not None:
        services.nudge_scheduler()


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


async def read_form(request: Request) -> Form:
    """The posted form, once its CSRF token and the user's right to post it are checked
    (403 otherwise)."""
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
    action = auth.form_action(request.state.route_template, form)
    if action is not None:
        request.state.audit_label = action
        require(request, action)
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
        return _finish(request, Response("Sign in first.", status_code=401))
    if request.method in ("GET", "HEAD"):
        back = _here(request)
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
    user = current_user(request)
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
