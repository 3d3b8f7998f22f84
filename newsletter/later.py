"""Work done after the answer has gone, in this process: one thread per queue, in order.

For the embedded default (no Redis): an email a request asks for (a new preferences link, a note to
the team that an issue waits for approval) is sent here, so the answer does not wait on a mail server
and takes the same time whatever the outcome. Work lost in a crash is an email someone can ask for
again; a clean stop (Ctrl+C on `newsletter serve`) finishes what was already handed over.
"""

from __future__ import annotations

import atexit
import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)


class Later:
    """A daemon thread, started on first use, running the jobs handed to it one after another."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._jobs: queue.Queue[tuple[Callable[..., Any], tuple[Any, ...]]] = queue.Queue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        atexit.register(self.drain, 5.0)

    def put(self, job: Callable[..., Any], *args: Any) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                self._thread.start()
        self._jobs.put((job, args))

    def _run(self) -> None:
        while True:
            job, args = self._jobs.get()
            try:
                job(*args)
            except Exception:  # the job says what failed; one failure must not stop the queue
                log.exception("%s: a job failed", self.name)
            finally:
                self._jobs.task_done()

    def drain(self, timeout: float = 10.0) -> bool:
        """Wait until every job handed over so far is done; False if some are still waiting."""
        deadline = time.monotonic() + timeout
        while self._jobs.unfinished_tasks:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True
