"""The application factory. Its lifespan owns every resource: no module-level state."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from baton import __version__
from baton.api import api_router
from baton.api.errors import install_error_handlers
from baton.api.limits import BodyLimitMiddleware
from baton.api.request_metrics import RequestMetrics, RequestMetricsMiddleware
from baton.api.responses import ORJSONResponse
from baton.core.audit import AuditLog
from baton.core.task_run_recorder import record_task_runs
from baton.db.database import Database
from baton.db.migrate import ensure_schema
from baton.events.store import EventStore
from baton.server.access import AccessMiddleware
from baton.server.compression import FastGZipMiddleware
from baton.server.headers import SecurityHeadersMiddleware
from baton.services import Services
from baton.settings import Settings
from baton.ui.routes import router as ui_router


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = Database(settings)
        # Cheap when `baton server start` has already migrated: one SELECT of the revision.
        await ensure_schema(db.migration_engine)
        await db.start()
        app.state.db = db
        events = EventStore(db, consumers=[record_task_runs])
        await events.start()
        app.state.events = events
        # The audit log records who changed what, so it runs when there is a "who".
        audit = AuditLog(db) if settings.auth_mode != "none" else None
        app.state.audit = audit
        if audit is not None:
            audit.start()
        services = Services(settings, db, events.bus) if settings.services else None
        app.state.services = services
        if services is not None:
            services.start()
        try:
            yield
        finally:
            if services is not None:
                await services.stop()
            if audit is not None:
                await audit.close()
            await events.close()  # writes what is still buffered, while the database is open
            await db.close()

    app = FastAPI(
        title="Baton",
        version=__version__,
        lifespan=lifespan,
        openapi_url="/api/openapi.json",
        docs_url="/docs",
        redoc_url=None,
        default_response_class=ORJSONResponse,
    )
    app.state.settings = settings
    app.state.fast_paths = settings.fast_paths  # read per request by api/compiled.py
    install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware)
    # Lists of runs and logs are large and compress ~10x (ISA-L's level 1: little CPU).
    app.add_middleware(FastGZipMiddleware, minimum_size=4096)
    app.add_middleware(AccessMiddleware, settings=settings)
    app.add_middleware(SecurityHeadersMiddleware)
    # Outermost, so refused bodies and errors are counted too.
    app.state.request_metrics = RequestMetrics()
    app.add_middleware(RequestMetricsMiddleware, metrics=app.state.request_metrics)
    app.include_router(api_router(fast_routing=settings.fast("routing")))
    app.include_router(ui_router)
    return app
