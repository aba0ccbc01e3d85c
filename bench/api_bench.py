"""API throughput of Baton against the reference Prefect server and a bare ASGI endpoint,
with the same load generator, in one invocation.

    .venv/bin/python bench/api_bench.py [--seconds 5] [--concurrency 16]
        [--targets baton,reference,bare] [--database-url postgresql+asyncpg://…]
        [--before DIR] [--compare-plain] [--repeat N]

Operations (each run for `--seconds` at `--concurrency` concurrent requests):
  create     POST /api/flow_runs/                    (a PENDING run of one flow)
  set_state  POST /api/flow_runs/{id}/set_state      (RUNNING, then COMPLETED, per run)
  read       GET  /api/flow_runs/{id}
  filter     POST /api/flow_runs/filter  limit 200
  logs       POST /api/logs/             50 records (encoded before the measurement,
                                         stamped with the time of each request)
The bare target answers a small JSON POST from a plain ASGI app under the same uvicorn
settings: the ceiling this load generator can show on this machine. It runs beside Baton
and is measured before and after each of Baton's operations; each operation is compared
with the two runs next to it, pooled.

Besides requests per second, each operation reports the server's CPU time per request
(user + system, of its whole process tree, from psutil): on two cores the load generator
is often the bottleneck, and then the server's CPU per request is what a change to the
server moves.

--before DIR adds Baton from another source tree (say `git worktree add DIR REV`, or
`git archive REV | tar -x -C DIR`), run with this virtualenv, so code from before and
after a change is measured in one invocation. --compare-plain adds Baton with each of its
fast paths turned off in turn (BATON_FAST_PATHS=-layer) and with all of them off (=0): the
gain of a layer on an operation is the CPU per request without it over the CPU per request
with everything on. --repeat N measures every target N times, in turn, and pools the runs.
Figures to report as ratios, never assertions.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import importlib.util
import itertools
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
OPERATIONS = ("create", "set_state", "read", "filter", "logs")
DROPPED = 599  # recorded for a request that got no HTTP answer at all


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Result:
    ops: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    cpu: float = 0.0  # the server's CPU seconds while this ran

    @property
    def rate(self) -> float:
        """Successful operations per second."""
        ok = sum(n for status, n in self.statuses.items() if status < 400)
        return ok / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    @property
    def failures(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 400)

    @property
    def cpu_ms(self) -> float:
        """The server's CPU milliseconds per request."""
        return self.cpu / self.ops * 1000 if self.ops else float("nan")


async def load(
    call: Callable[[httpx.AsyncClient], Awaitable[list[int]]],
    client: httpx.AsyncClient,
    seconds: float,
    concurrency: int,
) -> Result:
    """Run `call` from `concurrency` workers for `seconds`; each call may make several
    requests and returns their statuses (each request counts as one op)."""
    result = Result()
    deadline = time.monotonic() + seconds

    async def worker() -> None:
        while time.monotonic() < deadline:
            start = time.monotonic()
            try:
                statuses = await call(client)
            except httpx.TransportError:  # the server dropped the connection or timed out
                statuses = [DROPPED]
            elapsed = time.monotonic() - start
            for status in statuses:
                result.statuses[status] += 1
                result.latencies.append(elapsed / len(statuses))
            result.ops += len(statuses)

    started = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    result.seconds = time.monotonic() - started
    return result


def pooled(results: list[Result]) -> Result:
    """Several measurements of one operation as one."""
    total = Result()
    for r in results:
        total.ops += r.ops
        total.seconds += r.seconds
        total.latencies += r.latencies
        total.statuses.update(r.statuses)
        total.cpu += r.cpu
    return total


def state(kind: str) -> dict[str, object]:
    return {
        "type": kind,
        "name": None,
        "message": None,
        "state_details": {"transition_id": str(uuid.uuid4())},
        "data": None,
    }


Ceiling = Callable[[], Awaitable[Result]]


def tree_cpu(pid: int) -> Callable[[], float]:
    """The CPU seconds (user + system) a process and its children have used so far."""
    root = psutil.Process(pid)

    def used() -> float:
        total = 0.0
        for proc in [root, *root.children(recursive=True)]:
            try:
                times = proc.cpu_times()
            except psutil.NoSuchProcess:
                continue
            total += times.user + times.system
        return total

    return used


async def bench_api(
    api: str,
    seconds: float,
    concurrency: int,
    ceiling: Ceiling | None = None,
    cpu: Callable[[], float] | None = None,
) -> tuple[dict[str, Result], list[Result]]:
    """The operations against one server; with `ceiling`, the bare endpoint is measured
    before the first operation and after each one (so each has one on either side); with
    `cpu`, the server's CPU time during each operation is recorded."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    ceilings: list[Result] = []
    results: dict[str, Result] = {}

    async def measure(op: str, call: Callable[[httpx.AsyncClient], Awaitable[list[int]]]) -> None:
        if ceiling is not None and not ceilings:
            ceilings.append(await ceiling())
        before = cpu() if cpu is not None else 0.0
        results[op] = await load(call, client, seconds, concurrency)
        if cpu is not None:
            results[op].cpu = cpu() - before
        if ceiling is not None:
            ceilings.append(await ceiling())

    async with httpx.AsyncClient(base_url=api, limits=limits, timeout=60) as client:
        flow = (await client.post("/flows/", json={"name": "bench-flow"})).json()
        created: list[str] = []

        async def create(c: httpx.AsyncClient) -> list[int]:
            body = {
                "flow_id": flow["id"],
                "state": state("PENDING"),
                "parameters": {"n": 1},
                "empirical_policy": {"retries": 0, "retry_delay": 0},
                "tags": [],
            }
            r = await c.post("/flow_runs/", json=body)
            if r.status_code == 201:
                created.append(r.json()["id"])
            return [r.status_code]

        await measure("create", create)
        # Enough fresh runs for the state phase, made outside the measurement: two state
        # changes each, at up to 300 changes/s; fewer for a server that creates runs slowly.
        # (Runs beyond these are made inside the phase, and not counted.)
        wanted = min(int(150 * seconds), max(400, int(results["create"].rate * seconds)))
        while len(created) < wanted:
            try:
                await create(client)
            except httpx.TransportError:  # the reference drops connections when overloaded
                await asyncio.sleep(0.1)
        pool = iter(list(created))

        async def set_state(c: httpx.AsyncClient) -> list[int]:
            run_id = next(pool, None)
            if run_id is None:  # out of fresh runs: make one (not counted)
                await create(c)
                run_id = created[-1]
            url = f"/flow_runs/{run_id}/set_state"
            a = await c.post(url, json={"state": state("RUNNING"), "force": False})
            b = await c.post(url, json={"state": state("COMPLETED"), "force": False})
            return [a.status_code, b.status_code]

        await measure("set_state", set_state)
        ids = list(created)

        async def read(c: httpx.AsyncClient) -> list[int]:
            return [(await c.get(f"/flow_runs/{random.choice(ids)}")).status_code]

        await measure("read", read)

        async def filter_(c: httpx.AsyncClient) -> list[int]:
            body = {"sort": "EXPECTED_START_TIME_DESC", "limit": 200, "offset": 0}
            return [(await c.post("/flow_runs/filter", json=body)).status_code]

        await measure("filter", filter_)
        # The batches are encoded before the measurement: encoding 50 records costs the
        # load generator more than storing them costs the server, so encoding them in the
        # loop would measure the generator. Only their times are filled in per request, as
        # a client's records carry the time they were logged: re-sent times would land
        # each record of a batch in another place of every time-ordered index.
        lines = itertools.count()
        bodies = [log_batch(random.choice(ids), lines) for _ in range(256)]
        batches = itertools.cycle(bodies)
        headers = {"content-type": "application/json"}

        async def logs(c: httpx.AsyncClient) -> list[int]:
            body = stamped(next(batches))
            return [(await c.post("/logs/", content=body, headers=headers)).status_code]

        await measure("logs", logs)
    return results, ceilings


_WHEN = b"@WHEN@"


def log_batch(run_id: str, lines: Iterator[int], size: int = 50) -> bytes:
    """A client's batch of `size` log records for one flow run, as JSON bytes, with their
    times left to `stamped` (record i of the batch is logged at microsecond i)."""
    batch = [
        {
            "name": "bench",
            "level": 20,
            "message": f"line {next(lines)}",
            "timestamp": f"{_WHEN.decode()}{i:03d}+00:00",
            "flow_run_id": run_id,
            "task_run_id": None,
        }
        for i in range(size)
    ]
    return json.dumps(batch).encode()


def stamped(batch: bytes) -> bytes:
    """A batch from `log_batch` logged now: its records' times in this millisecond."""
    now = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")[:23]
    return batch.replace(_WHEN, now.encode())


async def bench_bare(url: str, seconds: float, concurrency: int) -> Result:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:

        async def post(c: httpx.AsyncClient) -> list[int]:
            return [(await c.post(url, json={"name": "x", "n": 1})).status_code]

        return await load(post, client, seconds, concurrency)


def wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout: float = 90) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return time.monotonic() - start
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise SystemExit(f"{url} not healthy after {timeout} s")


@dataclass(frozen=True)
class Target:
    """What to start: "baton" (this tree, or `source` with `label`), "reference" or "bare";
    Baton with `fast_paths` as BATON_FAST_PATHS when given."""

    kind: str
    label: str
    source: Path | None = None
    fast_paths: str | None = None


def start(
    target: Target, port: int, home: Path, database_url: str | None
) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "BATON_"))}
    if target.kind == "baton":
        env["BATON_HOME"] = str(home)
        if database_url:
            env["PREFECT_SERVER_DATABASE_CONNECTION_URL"] = database_url
        if target.fast_paths is not None:
            env["BATON_FAST_PATHS"] = target.fast_paths
        if target.source is not None:  # that tree's baton package before this one's
            env["PYTHONPATH"] = str(target.source / "src")
        cmd = [sys.executable, "-m", "baton", "server", "start", "--port", str(port)]
    elif target.kind == "reference":
        env.update(PREFECT_HOME=str(home), PREFECT_SERVER_ANALYTICS_ENABLED="false")
        cmd = [str(ROOT / ".venv-prefect/bin/prefect"), "server", "start", "--port", str(port)]
    else:
        cmd = [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.bare_app:app",
            "--port",
            str(port),
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--log-level",
            "warning",
        ]
    return subprocess.Popen(
        cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


# The fast paths BATON_FAST_PATHS switches, and the operations each was written for.
LAYERS = {
    "compiled": ("create", "set_state"),
    "routing": ("set_state", "read"),
    "inline_reads": ("read", "filter"),
    "statements": ("create", "set_state", "read", "logs"),
    "quick_writes": ("set_state", "logs"),
}


def targets_of(args: argparse.Namespace) -> list[Target]:
    names = args.targets.split(",")
    targets = [Target(name, name) for name in names if name != "bare"]
    if args.before:
        targets.insert(0, Target("baton", "before", source=Path(args.before).resolve()))
    if args.compare_plain:
        targets += [Target("baton", f"baton -{layer}", fast_paths=f"-{layer}") for layer in LAYERS]
        targets.append(Target("baton", "baton plain", fast_paths="0"))
    return targets


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--targets", default="baton,reference,bare")
    parser.add_argument("--database-url", help="run Baton on this database instead of SQLite")
    parser.add_argument("--before", help="also measure Baton from this source tree")
    parser.add_argument(
        "--compare-plain", action="store_true", help="also measure Baton without each fast path"
    )
    parser.add_argument("--repeat", type=int, default=1, help="measure each target N times")
    args = parser.parse_args()
    if importlib.util.find_spec("sniffio") is None:
        parser.exit(
            1,
            "sniffio is not installed: without it httpx's async client searches sys.path "
            "for it on every request, and the load generator, not the server, is measured "
            "(pip install -e '.[dev]').\n",
        )

    targets = targets_of(args)
    with_bare = "bare" in args.targets.split(",")
    homes: list[Path] = []
    procs: list[subprocess.Popen[bytes]] = []

    def launch(target: Target) -> tuple[str, subprocess.Popen[bytes]]:
        home = Path(tempfile.mkdtemp(prefix="bench-"))
        port = free_port()
        homes.append(home)
        procs.append(start(target, port, home, args.database_url))
        health = "/health" if target.kind == "bare" else "/api/health"
        wait_healthy(f"http://127.0.0.1:{port}{health}", procs[-1])
        return f"http://127.0.0.1:{port}", procs[-1]

    runs: dict[str, list[dict[str, Result]]] = {}
    # The bare endpoint is the ceiling of this load generator on this machine, whose speed
    # drifts by a third within minutes: it runs beside Baton and is measured right before
    # and after each of Baton's operations, which is compared with the two.
    beside: dict[str, list[Result]] = {}
    bare_runs: list[Result] = []
    try:
        ceiling: Ceiling | None = None
        if with_bare:
            bare_url = launch(Target("bare", "bare"))[0] + "/"

            async def ceiling() -> Result:
                return await bench_bare(bare_url, args.seconds, args.concurrency)

        for round_ in range(args.repeat):
            for target in targets:
                url, proc = launch(target)
                near = ceiling if target.label == "baton" else None
                results, ceilings = asyncio.run(
                    bench_api(
                        url + "/api", args.seconds, args.concurrency, near, tree_cpu(proc.pid)
                    )
                )
                runs.setdefault(target.label, []).append(results)
                bare_runs += ceilings
                for i, op in enumerate(results):
                    if ceilings:
                        beside.setdefault(op, []).extend(ceilings[i : i + 2])
                procs.remove(proc)
                proc.terminate()
                proc.wait(30)
                print(f"measured {target.label} (round {round_ + 1})", file=sys.stderr)
        if with_bare and not bare_runs:
            bare_runs.append(asyncio.run(bench_bare(bare_url, args.seconds, args.concurrency)))
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(30)
        for home in homes:
            shutil.rmtree(home, ignore_errors=True)

    table = {
        label: {op: pooled([r[op] for r in results]) for op in results[0]}
        for label, results in runs.items()
    }
    near_bare = {op: pooled(results) for op, results in beside.items()}
    if bare_runs:
        table["bare"] = {"bare": pooled(bare_runs)}
    report(args, table, near_bare)


def report(
    args: argparse.Namespace, table: dict[str, dict[str, Result]], beside: dict[str, Result]
) -> None:
    print(
        f"\nconcurrency {args.concurrency}, {args.seconds:g} s per operation, "
        f"{args.repeat} round(s)"
    )
    if beside and "baton" in table:
        print(
            "bare endpoint beside each of Baton's operations (pooled before and after): "
            + ", ".join(f"{op} {r.rate:,.0f}/s" for op, r in beside.items())
        )
    print()
    print(
        "| operation | target | ok ops/s | server CPU ms/op | p50 ms | p99 ms "
        "| errors (429/503, dropped) |"
    )
    print("|---|---|---:|---:|---:|---:|---|")
    for target, results in table.items():
        for op, r in results.items():
            busy = r.statuses.get(429, 0) + r.statuses.get(503, 0)
            cpu = "" if target == "bare" else f"{r.cpu_ms:.2f}"
            print(
                f"| {op} | {target} | {r.rate:,.0f} | {cpu} | {r.pct(0.5):.1f} | {r.pct(0.99):.1f} "
                f"| {r.failures} ({busy}, {r.statuses.get(DROPPED, 0)}) |"
            )
    if "baton" not in table:
        return
    print()
    for op in OPERATIONS:
        ours = table["baton"][op]
        parts = [f"{op}: baton {ours.rate:,.0f}/s, {ours.cpu_ms:.2f} ms CPU"]
        if "reference" in table:
            ref = table["reference"][op]
            parts.append(f"{ours.rate / ref.rate:.1f}x reference" if ref.rate else "reference 0/s")
            if ours.cpu_ms:
                parts.append(f"{ref.cpu_ms / ours.cpu_ms:.1f}x less CPU")
        if "before" in table:
            old = table["before"][op]
            parts.append(
                f"before {old.rate:,.0f}/s, {old.cpu_ms:.2f} ms CPU "
                f"({ours.rate / old.rate:.2f}x the rate)"
            )
        if op in beside:
            parts.append(f"{ours.rate / beside[op].rate:.0%} of bare beside it")
        print("  " + ", ".join(parts))
    if args.compare_plain:
        print(
            "\nWhat each fast path gains (CPU per request without it / with all on; ops/s ratio):"
        )
        for layer, ops in [*LAYERS.items(), ("plain", OPERATIONS)]:
            label = "baton plain" if layer == "plain" else f"baton -{layer}"
            gains = []
            for op in ops:
                on, off = table["baton"][op], table[label][op]
                gains.append(
                    f"{op} {off.cpu_ms / on.cpu_ms:.2f}x CPU, {on.rate / off.rate:.2f}x ops/s"
                )
            name = "all fast paths" if layer == "plain" else layer
            print(f"  {name}: " + "; ".join(gains))


if __name__ == "__main__":
    main()
