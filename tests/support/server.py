"""`baton server start` as a real subprocess, for tests that need the whole program."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.support.postgres import free_port


def baton_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of a Baton subprocess: this one, minus anything that would leak in."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PREFECT_", "BATON_")) and k != "PYTHONPATH"
    }
    env["BATON_HOME"] = str(home)
    env["NO_COLOR"] = "1"
    env["COLUMNS"] = "200"
    env.update(extra)
    return env


def run_baton(
    *args: str, env: Mapping[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "baton", *args],
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


class ServerProcess:
    def __init__(self, proc: subprocess.Popen[str], base_url: str) -> None:
        self.proc = proc
        self.base_url = base_url
        self.api_url = f"{base_url}/api"

    def wait_healthy(self, timeout: float = 30) -> float:
        """Block until /api/health answers 200; returns the seconds it took."""
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            if self.proc.poll() is not None:
                out, err = self.proc.communicate()
                raise AssertionError(f"baton exited with {self.proc.returncode}:\n{out}\n{err}")
            try:
                if httpx.get(f"{self.api_url}/health", timeout=1).status_code == 200:
                    return time.monotonic() - start
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"baton did not become healthy within {timeout} s")

    def stop(self) -> tuple[str, str]:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                return self.proc.communicate(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        return self.proc.communicate()


@contextmanager
def baton_server(
    env: Mapping[str, str],
    *args: str,
    port: int | None = None,
    port_flag: bool = True,
    wait: bool = True,
) -> Iterator[ServerProcess]:
    """Run `baton server start`; without `port_flag` the port must come from the environment."""
    port = port or free_port()
    flags = ["--port", str(port)] if port_flag else []
    proc = subprocess.Popen(
        [sys.executable, "-m", "baton", "server", "start", *flags, *args],
        env=dict(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    server = ServerProcess(proc, f"http://127.0.0.1:{port}")
    try:
        if wait:
            server.wait_healthy()
        yield server
    finally:
        server.stop()
