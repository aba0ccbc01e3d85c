"""`baton server start` as a real subprocess, for tests that need the whole program."""

from __future__ import annotations

import os
import ssl
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
    def __init__(
        self, proc: subprocess.Popen[str], base_url: str, verify: ssl.SSLContext | bool = True
    ) -> None:
        self.proc = proc
        self.base_url = base_url
        self.api_url = f"{base_url}/api"
        self.verify = verify  # the TLS trust for an https server

    def wait_healthy(self, timeout: float = 30) -> float:
        """Block until /api/health answers 200; returns the seconds it took."""
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            if self.proc.poll() is not None:
                out, err = self.proc.communicate()
                raise AssertionError(f"baton exited with {self.proc.returncode}:\n{out}\n{err}")
            try:
                health = httpx.get(f"{self.api_url}/health", timeout=1, verify=self.verify)
                if health.status_code == 200:
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
    tls: tuple[Path, Path] | None = None,
) -> Iterator[ServerProcess]:
    """Run `baton server start`; without `port_flag` the port must come from the environment;
    with `tls` (certificate, key) it serves HTTPS."""
    port = port or free_port()
    flags = ["--port", str(port)] if port_flag else []
    verify: ssl.SSLContext | bool = True
    if tls is not None:
        flags += ["--ssl-certfile", str(tls[0]), "--ssl-keyfile", str(tls[1])]
        verify = ssl.create_default_context(cafile=str(tls[0]))
    proc = subprocess.Popen(
        [sys.executable, "-m", "baton", "server", "start", *flags, *args],
        env=dict(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    scheme = "https" if tls else "http"
    server = ServerProcess(proc, f"{scheme}://127.0.0.1:{port}", verify)
    try:
        if wait:
            server.wait_healthy()
        yield server
    finally:
        server.stop()


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, made with openssl for this test."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key
