"""CSRF protection for the UI's forms: a per-browser token in a signed cookie, repeated in a
hidden field of every form; a POST is accepted only when the two agree and the cookie's
signature is ours. Another site can make a browser send the cookie, but cannot read it to
fill the field (and SameSite=Strict keeps it off cross-site requests anyway)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

COOKIE = "baton_csrf"
FIELD = "csrf_token"


def _sign(secret: bytes, token: str) -> str:
    digest = hmac.new(secret, token.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()


def new_cookie(secret: bytes) -> tuple[str, str]:
    """A fresh (token, cookie value)."""
    token = secrets.token_urlsafe(24)
    return token, f"{token}.{_sign(secret, token)}"


def token_of(secret: bytes, cookie: str | None) -> str | None:
    """The token a cookie carries, if its signature is ours."""
    if not cookie or "." not in cookie:
        return None
    token, signature = cookie.rsplit(".", 1)
    if not token or not hmac.compare_digest(signature, _sign(secret, token)):
        return None
    return token


def accepted(secret: bytes, cookie: str | None, field: str | None) -> bool:
    token = token_of(secret, cookie)
    return token is not None and field is not None and hmac.compare_digest(token, field)
