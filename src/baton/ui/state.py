"""The UI's state, owned by the app, and what else of the app a page reaches: its
settings, database, event bus and scheduler.

The template environment, the signing keys and the sign-in throttle are made on first use
and kept on `app.state`, never at module level.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import jinja2
from fastapi import Request

from baton import __version__
from baton.db.database import Database
from baton.events.store import EventBus, EventStore
from baton.security import sessions
from baton.settings import Settings
from baton.ui.format import CANCELLABLE, FILTERS
from baton.ui.throttle import LoginThrottle

if TYPE_CHECKING:  # the UI only wakes the services the app started
    from baton.services import Services

HERE = Path(__file__).parent
STATIC = HERE / "static"


@dataclass
class UIState:
    env: jinja2.Environment
    secret: bytes  # signs CSRF cookies
    session_key: bytes  # signs session cookies
    # file name → short content hash, so static URLs change whenever a file does
    asset_versions: dict[str, str] = field(default_factory=dict)
    throttle: LoginThrottle = field(default_factory=LoginThrottle)


def _make_state(settings: Settings) -> UIState:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,  # every template is HTML: escape everything not marked safe
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(FILTERS)
    versions = {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()[:10]
        for p in STATIC.iterdir()
        if p.is_file()
    }
    env.globals.update(
        version=__version__,
        cancellable=CANCELLABLE,
        auth_on=settings.auth_mode != "none",
        exposed=settings.exposed_without_auth,
    )
    env.globals["asset"] = lambda name: f"/static/{name}?v={versions.get(name, '0')}"
    secret = sessions.load_secret(settings)
    return UIState(
        env=env,
        secret=sessions.derive(secret, "csrf"),
        session_key=sessions.derive(secret, "session"),
        asset_versions=versions,
    )


def ui_state(request: Request) -> UIState:
    state: UIState | None = getattr(request.app.state, "baton_ui", None)
    if state is None:
        state = _make_state(settings_of(request))
        request.app.state.baton_ui = state
    return state


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def event_bus(request: Request) -> EventBus:
    store: EventStore = request.app.state.events
    return store.bus


def nudge_scheduler(request: Request) -> None:
    """Wake the scheduler after a schedule or a pause changed (a no-op when it is off)."""
    services: Services | None = getattr(request.app.state, "services", None)
    if services is not None:
        services.nudge_scheduler()
