"""Sign-in throttling: after `limit` failed attempts for one name, or from one address,
within `window` seconds, further attempts for it are refused (without checking the
password) until the oldest of those failures is `window` old.

Kept in memory, per process: a restart forgets it, and each replica counts on its own
(with N replicas an attacker gets up to N times the limit per window). Behind a reverse
proxy every request comes from the proxy's address unless uvicorn is told to trust its
forwarded headers; then the per-address limit applies to everyone at once.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

# Beyond this many tracked names and addresses, entries with no recent failure are dropped.
MAX_TRACKED = 10_000


class LoginThrottle:
    def __init__(
        self,
        limit: int = 5,
        window: float = 15 * 60,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._failures: dict[str, deque[float]] = {}

    def retry_after(self, keys: list[str], now: float) -> float:
        """Seconds until an attempt for these keys is accepted again (0: accepted now)."""
        wait = 0.0
        for key in keys:
            recent = self._recent(key, now)
            if len(recent) >= self.limit:
                wait = max(wait, recent[0] + self.window - now)
        return wait

    def failed(self, keys: list[str], now: float) -> None:
        if len(self._failures) >= MAX_TRACKED:
            self._prune(now)
        for key in keys:
            self._failures.setdefault(key, deque(maxlen=self.limit)).append(now)

    def succeeded(self, key: str) -> None:
        """Forget the failures of a name once it signs in. Not those of the address: one
        valid account must not reset the count of guesses made at others."""
        self._failures.pop(key, None)

    def _recent(self, key: str, now: float) -> deque[float]:
        found = self._failures.get(key)
        if found is None:
            return deque()
        while found and found[0] <= now - self.window:
            found.popleft()
        return found

    def _prune(self, now: float) -> None:
        for key in [k for k, v in self._failures.items() if not v or v[-1] <= now - self.window]:
            del self._failures[key]
        # Still full (thousands of addresses failing at once): drop the oldest entries, so
        # memory stays bounded; the per-address limit still applies to each newcomer.
        if len(self._failures) >= MAX_TRACKED:
            for key in list(self._failures)[: len(self._failures) - MAX_TRACKED // 2]:
                del self._failures[key]
