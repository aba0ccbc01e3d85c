"""Who is calling: the credentials of a request or a websocket, checked against the mode
(API keys are looked up in the database, hence core).

- none: everyone is an anonymous admin (a laptop);
- basic: `Authorization: Basic …` must carry exactly PREFECT_SERVER_API_AUTH_STRING, as the
  reference server expects; the caller is an admin;
- keys: `Authorization: Bearer <API key>`; the key's role applies.
Secrets are compared in constant time and never logged.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hmac
import uuid
from dataclasses import dataclass

from baton.core.api_keys import owner_of
from baton.db.database import Database
from baton.errors import Unauthorized
from baton.security.roles import Role
from baton.settings import Settings


@dataclass(frozen=True)
class Principal:
    name: str
    role: Role
    key_id: uuid.UUID | None = None


OPEN = Principal("anonymous", Role.ADMIN)
BASIC = Principal("basic", Role.ADMIN)


def _basic_matches(settings: Settings, secret: str) -> bool:
    expected = (settings.auth_string or "").encode()
    return bool(expected) and hmac.compare_digest(secret.encode(), expected)


async def _by_key(db: Database, key: str, now: dt.datetime) -> Principal | None:
    owner = await owner_of(db, key, now)
    return None if owner is None else Principal(owner.name, owner.role, owner.id)


async def authenticate(
    settings: Settings, db: Database, authorization: str | None, now: dt.datetime
) -> Principal:
    """The caller of an HTTP request, from its Authorization header; Unauthorized if the
    mode needs credentials and these are missing or not accepted."""
    if settings.auth_mode == "none":
        return OPEN
    scheme, _, value = (authorization or "").partition(" ")
    scheme = scheme.lower()
    if settings.auth_mode == "basic":
        if scheme != "basic" or not value:
            raise Unauthorized("Unauthorized: send Basic credentials (PREFECT_API_AUTH_STRING).")
        try:
            secret = base64.b64decode(value.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise Unauthorized("Unauthorized: the Basic credentials are malformed.") from None
        if not _basic_matches(settings, secret):
            raise Unauthorized("Unauthorized: the Basic credentials are wrong.")
        return BASIC
    if scheme != "bearer" or not value:
        raise Unauthorized("Unauthorized: send an API key as a Bearer token (PREFECT_API_KEY).")
    principal = await _by_key(db, value.strip(), now)
    if principal is None:
        raise Unauthorized("Unauthorized: the API key is unknown, revoked or expired.")
    return principal


async def authenticate_token(
    settings: Settings, db: Database, token: str | None, now: dt.datetime
) -> Principal | None:
    """The caller of a websocket, from the token of its auth frame (the raw auth string
    under basic, an API key under keys); None if refused."""
    if settings.auth_mode == "none":
        return OPEN
    if not token:
        return None
    if settings.auth_mode == "basic":
        return BASIC if _basic_matches(settings, token) else None
    return await _by_key(db, token, now)
