"""A sliding-window limit per key in this process's memory: per IP on the public subscriber forms
(instead of a CAPTCHA, which WCAG 2.2 asks us not to use) and per client on the team's sign-in.

A sliding window in this process's memory: the forms are served by one waitress process with
threads, so that is enough for one council's traffic, and it costs no Redis. Behind a reverse
proxy, the app must be told to trust X-Forwarded-For (werkzeug's ProxyFix) or every visitor will
share the proxy's address. The clock is injectable so tests need no sleeping.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class RateLimiter:
    def __init__(self, limit: int, window_seconds: float, clock: Callable[[], float] = time.monotonic):
        self.limit = limit
        self.window = window_seconds
        self.clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        """Count one attempt for `key`; False once it has had `limit` attempts within the window."""
        now = self.clock()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and now - hits[0] >= self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return False
            hits.append(now)
            if len(self._hits) > 10_000:
                self._forget_idle(now)
            return True

    def _forget_idle(self, now: float) -> None:
        # Keeps memory bounded when many addresses each try once.
        for key in [k for k, hits in self._hits.items() if not hits or now - hits[-1] >= self.window]:
            del self._hits[key]
