"""Start-to-healthy time and idle memory of `baton server start` (and, with --reference, of
the reference `prefect server start` from .venv-prefect), measured the same way.

    .venv/bin/python bench/startup.py [--runs 3] [--reference] [--idle 10]

Start-to-healthy: from spawning the process to the first 200 from /api/health.
Idle RSS: the resident memory of the whole process tree after `--idle` seconds.
A figure to report, never a test assertion.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def tree_rss(pid: int) -> int:
    proc = psutil.Process(pid)
    total = proc.memory_info().rss
    for child in proc.children(recursive=True):
        with contextlib.suppress(psutil.NoSuchProcess):
            total += child.memory_info().rss
    return total


def measure(cmd: list[str], env: dict[str, str], port: int, idle: float) -> tuple[float, int]:
    start = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"{cmd} exited with {proc.returncode}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.02)
        healthy = time.monotonic() - start
        time.sleep(idle)
        return healthy, tree_rss(proc.pid)
    finally:
        for child in psutil.Process(proc.pid).children(recursive=True):
            child.terminate()
        proc.terminate()
        proc.wait(30)


def run(name: str, make_cmd, runs: int, idle: float) -> None:  # type: ignore[no-untyped-def]
    """Measure `runs` starts on a fresh database each, then `runs` restarts on one that
    already exists (the everyday case: no migrations to run)."""
    for fresh in (True, False):
        times, rss = [], []
        home = Path(tempfile.mkdtemp(prefix="baton-bench-"))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "BATON_"))}
        if not fresh:  # create the database first
            port = free_port()
            cmd, extra = make_cmd(home, port)
            measure(cmd, {**env, **extra}, port, 0.5)
        for i in range(runs):
            if fresh:
                shutil.rmtree(home, ignore_errors=True)
                home.mkdir()
            port = free_port()
            cmd, extra = make_cmd(home, port)
            t, m = measure(cmd, {**env, **extra}, port, idle if i == 0 else 0.5)
            times.append(t)
            if i == 0:
                rss.append(m)
        shutil.rmtree(home, ignore_errors=True)
        print(
            f"{name:<24} {'fresh database' if fresh else 'existing database':<18} "
            f"start-to-healthy median {statistics.median(times):5.2f} s "
            f"(min {min(times):.2f}, max {max(times):.2f}, {runs} runs)   "
            f"idle RSS after {idle:g} s: {rss[0] / 2**20:6.1f} MB"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--idle", type=float, default=10.0)
    parser.add_argument("--reference", action="store_true", help="also measure prefect server")
    args = parser.parse_args()
    # As installed (pip writes bytecode; `make serve` compiles the editable source): a start
    # that compiles every module first measures PYTHONDONTWRITEBYTECODE, not Baton.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "src")], check=True)

    def baton(home: Path, port: int) -> tuple[list[str], dict[str, str]]:
        cmd = [sys.executable, "-m", "baton", "server", "start", "--port", str(port)]
        return cmd, {"BATON_HOME": str(home)}

    run("baton (SQLite)", baton, args.runs, args.idle)
    if args.reference:
        prefect = ROOT / ".venv-prefect" / "bin" / "prefect"

        def reference(home: Path, port: int) -> tuple[list[str], dict[str, str]]:
            cmd = [str(prefect), "server", "start", "--port", str(port)]
            return cmd, {"PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}

        run("prefect 3.9.1 (SQLite)", reference, args.runs, args.idle)


if __name__ == "__main__":
    main()
