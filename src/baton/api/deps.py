"""Request dependencies: the resources the app's lifespan owns, handed to handlers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request

from baton.db.database import Database
from baton.events.store import EventBus, EventStore
from baton.services import Services


async def _database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


async def _event_bus(request: Request) -> EventBus:
    store: EventStore = request.app.state.events
    return store.bus


async def _scheduler_nudge(request: Request) -> Callable[[], None]:
    """Wakes the scheduler (a no-op when services are off)."""
    services: Services | None = getattr(request.app.state, "services", None)
    return services.nudge_scheduler if services is not None else _nothing


def _nothing() -> None:
    return None


DB = Annotated[Database, Depends(_database)]
Bus = Annotated[EventBus, Depends(_event_bus)]
NudgeScheduler = Annotated[Callable[[], None], Depends(_scheduler_nudge)]
