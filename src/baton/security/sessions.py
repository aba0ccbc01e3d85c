"""Signed session cookies for the web UI, and the secret that signs them.

A session is a small JSON object (user name, role, expiry, how the user signed in and a
stamp of the credential used) and an HMAC-SHA256 of it. Nothing in it is secret, and
nothing in it can be changed without the signing key. The stamp ties a session to the
credential it was made with: a changed password (or auth string) ends older sessions.

The secret comes from BATON_UI_SECRET (the same on every replica) or, unset, from
BATON_HOME/ui-secret, made at first start with 0600 permissions, so sessions and forms
survive a restart.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import orjson

from baton.settings import Settings

log = logging.getLogger("baton.ui")
SECRET_FILE = "ui-secret"
SESSION_HOURS = 12


def load_secret(settings: Settings) -> bytes:
    """The UI's signing secret: BATON_UI_SECRET, else the one kept in BATON_HOME."""
    if settings.ui_secret:
        return hashlib.sha256(b"baton-ui-secret:" + settings.ui_secret.encode()).digest()
    path = settings.home / SECRET_FILE
    try:
        return _read_or_make(path)
    except OSError as exc:
        # Forms and sessions still work; they just end when this process does.
        log.warning("cannot keep the UI secret in %s (%s); using a temporary one", path, exc)
        return secrets.token_bytes(32)


def _read_or_make(path: Path) -> bytes:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # Written aside, then linked into place: a second process starting at the same
        # moment either links first (and we read its secret) or reads a complete file.
        draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_urlsafe(48) + "\n")
            with contextlib.suppress(FileExistsError):
                os.link(draft, path)
        finally:
            draft.unlink(missing_ok=True)
    text = path.read_text().strip()
    if len(text) < 32:
        raise OSError(f"{path} holds no usable secret; delete it to make a new one")
    return hashlib.sha256(b"baton-ui-secret:" + text.encode()).digest()


def derive(secret: bytes, purpose: str) -> bytes:
    """A separate key per use (sessions, CSRF), so one can never stand in for the other."""
    return hmac.new(secret, purpose.encode(), hashlib.sha256).digest()


def stamp(key: bytes, credential: str) -> str:
    """A short keyed digest of a credential (a password hash, the auth string)."""
    digest = hmac.new(key, b"stamp:" + credential.encode(), hashlib.sha256).digest()
    return _b64(digest[:12])


@dataclass(frozen=True)
class Session:
    name: str
    role: str
    expires: int  # Unix seconds
    kind: str  # "user" (a ui_user row) or "basic" (the basic auth string's user)
    stamp: str


def encode(key: bytes, session: Session) -> str:
    payload = _b64(
        orjson.dumps(
            {
                "n": session.name,
                "r": session.role,
                "e": session.expires,
                "k": session.kind,
                "s": session.stamp,
            }
        )
    )
    return f"{payload}.{_sign(key, payload)}"


def decode(key: bytes, raw: str | None, now: float) -> Session | None:
    """The session a cookie carries, if its signature is ours and it has not expired."""
    if not raw or raw.count(".") != 1:
        return None
    payload, signature = raw.split(".")
    if not hmac.compare_digest(signature, _sign(key, payload)):
        return None
    try:
        data = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        session = Session(
            name=str(data["n"]),
            role=str(data["r"]),
            expires=int(data["e"]),
            kind=str(data["k"]),
            stamp=str(data["s"]),
        )
    except (binascii.Error, orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return None
    return session if session.expires > now else None


def _sign(key: bytes, payload: str) -> str:
    return _b64(hmac.new(key, payload.encode(), hashlib.sha256).digest())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")
