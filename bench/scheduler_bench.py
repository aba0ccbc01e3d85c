"""The scheduler at scale: N deployments with hourly schedules (default 500).

    .venv/bin/python bench/scheduler_bench.py [--deployments 500] [--database-url URL]

Runs the real app in-process (real lifespan, SQLite file or PostgreSQL, services off so
passes are timed alone), creates the deployments over the HTTP API, then times:
  fill   the first scheduler pass, which creates every deployment's runs (3 each);
  idle   later passes, with every horizon full (median of 5): the cost of one loop when
         nothing is due, which must stay far under the scheduler's interval (10 s).
Figures to report, never assertions.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from baton.core.deployment_runs import Horizon  # noqa: E402
from baton.server.app import create_app  # noqa: E402
from baton.services.scheduler import schedule_pass  # noqa: E402
from baton.settings import DATABASE_URL_VAR, Settings  # noqa: E402


async def main(count: int, database_url: str | None) -> None:
    home = Path(tempfile.mkdtemp(prefix="baton-sched-bench-"))
    env = {"BATON_HOME": str(home)}
    if database_url:
        env[DATABASE_URL_VAR] = database_url
    settings = Settings.from_env(env).with_overrides(services=False)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://baton/api") as api:
            flow = (await api.post("/flows/", json={"name": "bench-flow"})).json()
            started = time.perf_counter()
            for i in range(count):
                body = {
                    "name": f"hourly-{i}",
                    "flow_id": flow["id"],
                    "schedules": [{"schedule": {"interval": 3600, "timezone": "UTC"}}],
                    "parameters": {"i": i},
                }
                response = await api.post("/deployments/", json=body)
                response.raise_for_status()
            created = time.perf_counter() - started
            db, bus = app.state.db, app.state.events.bus

            started = time.perf_counter()
            runs = await schedule_pass(db, bus, Horizon())
            fill = time.perf_counter() - started
            idle = []
            for _ in range(5):
                started = time.perf_counter()
                assert await schedule_pass(db, bus, Horizon()) == 0
                idle.append(time.perf_counter() - started)
            total = (await api.post("/flow_runs/count", json={})).json()
    backend = "PostgreSQL" if database_url else "SQLite"
    print(f"{backend}: {count} deployments created over HTTP in {created:.1f} s")
    print(f"  fill pass: {runs} runs in {fill:.2f} s ({runs / fill:.0f} runs/s); {total} in db")
    print(
        f"  idle pass: median {statistics.median(idle) * 1000:.0f} ms "
        f"(min {min(idle) * 1000:.0f}, max {max(idle) * 1000:.0f}) vs a 10 s interval"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deployments", type=int, default=500)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    asyncio.run(main(args.deployments, args.database_url))
