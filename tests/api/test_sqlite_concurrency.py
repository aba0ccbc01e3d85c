"""64 concurrent writers against a real server on SQLite: no "database is locked", no 503."""

from __future__ import annotations

import asyncio
import collections
import sqlite3
import time
import uuid
from pathlib import Path

import httpx

from tests.support.server import baton_env, baton_server

WRITERS = 64
SECONDS = 4.0


async def _hammer(api: str) -> tuple[collections.Counter[int], list[str], list[str]]:
    statuses: collections.Counter[int] = collections.Counter()
    created: list[str] = []
    problems: list[str] = []
    deadline = time.monotonic() + SECONDS
    limits = httpx.Limits(max_connections=WRITERS)
    async with httpx.AsyncClient(base_url=api, limits=limits, timeout=30) as client:

        async def writer(n: int) -> None:
            while time.monotonic() < deadline:
                name = f"w{n}-{uuid.uuid4().hex[:8]}"
                response = await client.post("/flows/", json={"name": name, "tags": [str(n)]})
                statuses[response.status_code] += 1
                if response.status_code == 201:
                    created.append(name)
                    # Read-your-write: the acknowledged flow is there at once.
                    read = await client.get(f"/flows/{response.json()['id']}")
                    if read.status_code != 200:
                        problems.append(f"read after write: {read.status_code} {read.text}")
                else:
                    problems.append(f"{response.status_code} {response.text}")

        await asyncio.gather(*(writer(n) for n in range(WRITERS)))
    return statuses, created, problems


async def test_concurrent_writers_never_fail(tmp_path: Path) -> None:
    with baton_server(baton_env(tmp_path / "home")) as server:
        statuses, created, problems = await _hammer(server.api_url)
        _, err = server.stop()
    assert problems == []
    assert set(statuses) == {201}
    assert len(created) > WRITERS  # every writer wrote more than once
    assert "database is locked" not in err
    with sqlite3.connect(tmp_path / "home" / "baton.db") as conn:
        stored = {row[0] for row in conn.execute("SELECT name FROM flow")}
    assert stored == set(created)  # everything acknowledged was committed
