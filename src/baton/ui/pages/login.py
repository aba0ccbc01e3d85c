"""Signing in and out of the UI (when access control is on).

A failed sign-in says the same thing whether or not the name exists (and `check_password`
does the same work either way). After five failures for a name or from an address within
fifteen minutes, attempts for it are refused with 429 until the window passes, without
the password being checked (see `ui.throttle`).
"""

from __future__ import annotations

import math

from fastapi import Request
from starlette.responses import Response

from baton.ui.auth import SESSION_COOKIE, SESSION_SECONDS, sign_in
from baton.ui.forms import read_form
from baton.ui.gate import audit_object, find_user, ui_router
from baton.ui.params import is_https
from baton.ui.rendering import local_path, page, redirect
from baton.ui.state import database, settings_of, ui_state

router = ui_router(public=True)
WRONG = "Wrong name or password."


def _next(raw: str | None) -> str:
    target = local_path(raw, "/")
    return "/" if target.startswith(("/login", "/logout")) else target


def _form(
    request: Request, target: str, name: str = "", problem: str = "", status: int = 200
) -> Response:
    context = {"next": target, "name": name, "problem": problem}
    return page(request, "pages/login.html", context, status=status)


@router.get("/login")
async def login_page(request: Request) -> Response:
    target = _next(request.query_params.get("next"))
    if settings_of(request).auth_mode == "none" or await find_user(request) is not None:
        return redirect(request, target)
    return _form(request, target)


@router.post("/login")
async def login(request: Request) -> Response:
    form = await read_form(request)
    target = _next(form.get("next"))
    settings = settings_of(request)
    if settings.auth_mode == "none":
        return redirect(request, target)
    name = form.get("name").strip()[:255]
    address = request.client.host if request.client else "unknown"
    keys = [f"name:{name}", f"address:{address}"]
    state = ui_state(request)
    audit_object(request, f"/login as {name!r}")
    now = state.throttle.clock()
    wait = state.throttle.retry_after(keys, now)
    if wait > 0:
        minutes = math.ceil(wait / 60)
        problem = (
            "Too many failed sign-ins for this name or from this address. "
            f"Try again in {minutes} minute{'s' if minutes != 1 else ''}."
        )
        response = _form(request, target, name, problem, status=429)
        response.headers["Retry-After"] = str(math.ceil(wait))
        return response
    found = await sign_in(
        database(request), settings, state.session_key, name, form.get("password")
    )
    if found is None:
        state.throttle.failed(keys, now)
        return _form(request, target, name, WRONG, status=401)
    state.throttle.succeeded(keys[0])
    request.state.user, cookie = found
    response = redirect(request, target)
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        max_age=SESSION_SECONDS,
        path="/",
        httponly=True,
        samesite="lax",  # kept on links from elsewhere (a chat message, an e-mail)
        secure=is_https(request),
    )
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    request.state.user = await find_user(request)  # for the audit log
    await read_form(request)
    response = redirect(request, "/login", "Signed out.")
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=is_https(request)
    )
    return response
