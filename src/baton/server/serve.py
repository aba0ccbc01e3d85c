"""Run the app under uvicorn on an already-bound socket."""

from __future__ import annotations

import logging
import socket

import uvicorn

from baton.server.app import create_app
from baton.settings import Settings


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    # Alembic narrates every schema check at INFO; only its problems are worth showing.
    logging.getLogger("alembic").setLevel(max(logging.WARNING, logging.getLogger().level))


def serve(settings: Settings, sock: socket.socket) -> None:
    config = uvicorn.Config(
        create_app(settings),
        loop="uvloop",
        http="httptools",
        ws="websockets-sansio",
        lifespan="on",
        log_level=settings.log_level,
        access_log=settings.log_level == "debug",
        timeout_graceful_shutdown=10,
    )
    uvicorn.Server(config).run(sockets=[sock])
