"""Errors that carry their HTTP status; one handler in `baton.api.errors` renders them all.

Core code raises these without knowing about HTTP: the status is data on the exception.
"""

from __future__ import annotations


class BatonError(Exception):
    """Base of every error Baton reports to a client."""

    status_code = 500
    code = "internal_error"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class Unauthorized(BatonError):
    """No credentials, or ones the server does not accept."""

    status_code = 401
    code = "unauthorized"


class Forbidden(BatonError):
    """Credentials accepted, but their role may not do this."""

    status_code = 403
    code = "forbidden"


class NotFound(BatonError):
    status_code = 404
    code = "not_found"


class Conflict(BatonError):
    status_code = 409
    code = "conflict"


class InvalidInput(BatonError):
    """Input that parsed but breaks a rule the schema cannot express; `loc` names the field
    (as "body.flow_id")."""

    status_code = 422
    code = "invalid"

    def __init__(self, detail: str, loc: str | None = None) -> None:
        super().__init__(detail)
        self.loc = loc


class Unavailable(BatonError):
    """The database (or another dependency) cannot answer right now; the client should retry."""

    status_code = 503
    code = "unavailable"
    retry_after = 5


class ConfigError(Exception):
    """A setting is wrong; the CLI prints the message and exits non-zero."""


class StartupError(Exception):
    """The server cannot start (port in use, database unreachable, ...); message is user-facing."""
