"""What a database error means for whoever meets it: the database is not answering (retry
later), a value it cannot store (the client's input), or a bug in a query. Routes and the
event store ask here, so the kinds are told apart in one place."""

from __future__ import annotations

from sqlalchemy import exc as sa_exc

# What the API's database error handler is given: the driver's errors, an exhausted
# connection pool, and the network's (OSError includes ConnectionError and TimeoutError).
DATABASE_ERRORS: tuple[type[Exception], ...] = (sa_exc.DBAPIError, sa_exc.TimeoutError, OSError)
# What a failed write can raise (RuntimeError: the SQLite writer has stopped).
STORAGE_ERRORS: tuple[type[Exception], ...] = (sa_exc.SQLAlchemyError, OSError, RuntimeError)


def is_unstorable(exc: BaseException) -> bool:
    """A value that passed validation but that the database refuses (a number out of range,
    a character it does not accept)."""
    return isinstance(exc, sa_exc.DataError | OverflowError)


def is_outage(exc: BaseException) -> bool:
    """The database did not answer (retry later), as opposed to refusing the statement."""
    if isinstance(exc, sa_exc.DBAPIError):
        return exc.connection_invalidated or isinstance(
            exc, sa_exc.OperationalError | sa_exc.InterfaceError
        )
    return isinstance(exc, OSError | sa_exc.TimeoutError | RuntimeError)
