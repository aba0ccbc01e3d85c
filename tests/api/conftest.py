"""Fixtures of the in-process API tests."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
import uvicorn
from fastapi import FastAPI

from baton.settings import Settings


@pytest.fixture(params=["fast", pytest.param("plain", marks=pytest.mark.plain)])
def settings(request: pytest.FixtureRequest, settings: Settings) -> Settings:
    """Every API test runs twice: with the fast paths on (the default), and with all of
    them off (BATON_FAST_PATHS=0: every library driven through its public API), so the
    plain path stays correct and the two answer the same."""
    if request.param == "plain":
        return settings.with_overrides(fast_paths=frozenset())
    return settings


@pytest.fixture
async def ws_api(app: FastAPI) -> AsyncIterator[str]:
    """The app served by a real uvicorn in this process (for websockets), on top of the
    `app` fixture's lifespan: the base URL of its API."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        lifespan="off",
        ws="websockets-sansio",
        log_level="warning",
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield f"ws://127.0.0.1:{port}/api"
    finally:
        server.should_exit = True
        await task
        sock.close()
