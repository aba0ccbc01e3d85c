"""Run the app under uvicorn on an already-bound socket."""

from __future__ import annotations

import datetime as dt
import json
import logging
import socket

import uvicorn

from baton.server.app import create_app
from baton.settings import Settings


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, and the
    exception's traceback when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def configure_logging(level: str, fmt: str = "text") -> None:
    handler = logging.StreamHandler()
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter(
                "%(asctime)s %(levelname)-7s %(name)s: %(message)s", datefmt="%H:%M:%S"
            )
        )
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
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
        log_config=None,  # uvicorn's loggers go through the handler configure_logging set
        ssl_certfile=settings.ssl_certfile,
        ssl_keyfile=settings.ssl_keyfile,
    )
    uvicorn.Server(config).run(sockets=[sock])
