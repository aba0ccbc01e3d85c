"""Forms posted from the UI's pages: the CSRF token a page puts in its forms (and the
cookie that carries it), and reading a posted form once its token and the user's right
to post it are checked. The token maths is `ui.csrf`'s."""

from __future__ import annotations

import urllib.parse

from fastapi import Request
from starlette.responses import Response

from baton.errors import Forbidden
from baton.ui import auth, csrf
from baton.ui.params import is_https
from baton.ui.state import ui_state

MAX_FORM_BYTES = 2 * 1024 * 1024


def csrf_token(request: Request) -> str:
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


def set_csrf_cookie(request: Request, response: Response) -> None:
    """The cookie of a token `csrf_token` made for this request, if it made one."""
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
        request.state.audit_label = action  # the gate's audit names the action taken
        auth.require(request, action)
    return form
