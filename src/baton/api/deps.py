"""Request dependencies: the resources the app's lifespan owns, handed to handlers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from baton.db.database import Database
from baton.events.store import EventBus, EventStore


def _database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def _event_bus(request: Request) -> EventBus:
    store: EventStore = request.app.state.events
    return store.bus


DB = Annotated[Database, Depends(_database)]
Bus = Annotated[EventBus, Depends(_event_bus)]
