"""Request dependencies: the resources the app's lifespan owns, handed to handlers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from baton.db.database import Database


def _database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


DB = Annotated[Database, Depends(_database)]
