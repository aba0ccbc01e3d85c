"""Handing runs to workers: 4 pollers claim N due runs of one work pool (default 500),
against Baton and the reference server, in one invocation.

    .venv/bin/python bench/claim_bench.py [--runs 500] [--pollers 4]
        [--targets baton,reference] [--database-url postgresql+asyncpg://…]

A poller does what a worker does: `POST /api/work_pools/p1/get_scheduled_flow_runs`, then
proposes PENDING for each run it got; a run is claimed when its PENDING is accepted.
Reported: runs claimed per second, how many runs were handed to more than one poller
(Baton: never; the reference hands a due run to every poller until one moves it on, and
the losers' PENDING is refused), and the polls made. Figures, never assertions.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.api_bench import free_port, start, wait_healthy


async def prepare(api: httpx.AsyncClient, runs: int) -> None:
    """A process pool, a deployment in it, and `runs` runs due now."""
    pool = await api.post("/work_pools/", json={"name": "p1", "type": "process"})
    pool.raise_for_status()
    flow = (await api.post("/flows/", json={"name": "claimed"})).json()
    body = {
        "name": "d",
        "flow_id": flow["id"],
        "work_pool_name": "p1",
        "enforce_parameter_schema": False,
    }
    deployment = (await api.post("/deployments/", json=body)).json()
    due = (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)).isoformat()
    state = {"type": "SCHEDULED", "state_details": {"scheduled_time": due}}
    sem = asyncio.Semaphore(2)  # the reference answers 503 to more than a few at once

    async def one() -> None:
        async with sem:
            for _ in range(60):  # and sometimes even then: retry
                made = await api.post(
                    f"/deployments/{deployment['id']}/create_flow_run", json={"state": state}
                )
                if made.status_code < 300:
                    return
                await asyncio.sleep(1.0)
            made.raise_for_status()

    await asyncio.gather(*(one() for _ in range(runs)))


async def claim_all(
    api: httpx.AsyncClient, runs: int, pollers: int
) -> tuple[float, Counter[str], int, int]:
    handed: Counter[str] = Counter()
    claimed: set[str] = set()
    polls = 0

    async def poller() -> None:
        nonlocal polls
        idle = 0
        while len(claimed) < runs and idle < 5:
            before = str(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=10))
            got = await api.post(
                "/work_pools/p1/get_scheduled_flow_runs",
                json={"work_queue_names": [], "scheduled_before": before, "limit": 10},
            )
            polls += 1
            if got.status_code != 200:
                await asyncio.sleep(0.2)
                continue
            items = got.json()
            idle = 0 if items else idle + 1
            for item in items:
                run_id = item["flow_run"]["id"]
                handed[run_id] += 1
                answer = await api.post(
                    f"/flow_runs/{run_id}/set_state", json={"state": {"type": "PENDING"}}
                )
                if answer.status_code < 300 and answer.json()["status"] == "ACCEPT":
                    claimed.add(run_id)

    started = time.monotonic()
    await asyncio.gather(*(poller() for _ in range(pollers)))
    return time.monotonic() - started, handed, len(claimed), polls


async def bench(api_url: str, runs: int, pollers: int) -> str:
    limits = httpx.Limits(max_connections=pollers * 2, max_keepalive_connections=pollers * 2)
    async with httpx.AsyncClient(base_url=api_url, timeout=60, limits=limits) as api:
        await prepare(api, runs)
        seconds, handed, claimed, polls = await claim_all(api, runs, pollers)
    twice = sum(1 for n in handed.values() if n > 1)
    return (
        f"{claimed}/{runs} runs claimed in {seconds:.2f} s = {claimed / seconds:.0f} runs/s; "
        f"{twice} runs handed to more than one poller; {polls} polls"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--pollers", type=int, default=4)
    parser.add_argument("--targets", default="baton,reference")
    parser.add_argument("--database-url")
    args = parser.parse_args()
    for target in args.targets.split(","):
        home = Path(tempfile.mkdtemp(prefix=f"claim-{target}-"))
        port = free_port()
        proc = start(target, port, home, args.database_url)
        try:
            wait_healthy(f"http://127.0.0.1:{port}/api/health", proc)
            line = asyncio.run(bench(f"http://127.0.0.1:{port}/api", args.runs, args.pollers))
            print(f"{target:<10} {line}", flush=True)
        finally:
            proc.terminate()
            proc.wait(30)


if __name__ == "__main__":
    main()
