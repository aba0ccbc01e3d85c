"""The shape every background service shares: a loop that runs a pass every `interval`
seconds (sooner when nudged), logs and survives a failed pass, and stops with the app.

Services are safe to run on several replicas at once: what they write is idempotent or
guarded by a row lock. They are not leader-elected yet, so on several replicas each one
runs every pass.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

log = logging.getLogger("baton.services")


class Service:
    """Runs `step` (one pass, returning what it did: a count, or 0/None for nothing) every
    `interval` seconds, sooner when nudged."""

    def __init__(self, name: str, interval: float, step: Callable[[], Awaitable[object]]) -> None:
        self.name = name
        self.interval = interval
        self._step = step
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.passes = 0  # completed passes, for tests and metrics
        self.failures = 0
        self.items = 0  # what the passes did (runs created, rows deleted, ...)
        self.last_duration = 0.0  # seconds the last pass took
        self.last_finished = time.monotonic()  # when the last pass ended (or the start)

    def lag(self) -> float:
        """Seconds the next pass is overdue: 0 while the service keeps to its interval; it
        grows when a pass runs long or the loop is stuck."""
        return max(0.0, time.monotonic() - (self.last_finished + self.interval))

    def nudge(self) -> None:
        """Run the next pass now rather than at the end of the interval."""
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"baton-{self.name}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            started = time.perf_counter()
            did: object = None
            try:
                did = await self._step()
                self.passes += 1
                self.items += did if isinstance(did, int) else 0
            except Exception:  # a pass that fails is retried at the next interval
                self.failures += 1
                log.exception("%s: pass failed", self.name)
            self.last_duration = time.perf_counter() - started
            self.last_finished = time.monotonic()
            log.debug("%s: pass took %.1f ms, did %s", self.name, self.last_duration * 1000, did)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval)
