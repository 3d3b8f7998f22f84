"""Forcing the interleavings a race needs, on the real databases: threads, barriers and statement hooks.

A race needs one party to act between another's read and its write. These helpers put it there on
purpose, by watching the statements a thread sends to the database (a SQLAlchemy engine event), so
a test does not depend on luck or on the code under test offering a hook of its own.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import event

from newsletter.db import get_engine

# A write, or a read that locks rows for writing (SELECT ... FOR [NO KEY] UPDATE): where a change begins.
WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\b|\bFOR (NO KEY )?UPDATE\b", re.IGNORECASE)


class Interleave:
    """Run `competitor` in another thread just before this thread sends its first statement matching `pattern`.

    This thread waits for the competitor to finish, or for `patience` seconds if it is blocked (by a lock
    this thread holds), then carries on. `fired` says the moment came; `finished_first` whether the
    competitor got all its work done in it; `result` is what it returned. Leaving the block waits for it.
    """

    def __init__(self, pattern: str, competitor: Callable[[], Any], patience: float = 1.0):
        self.pattern = re.compile(pattern, re.IGNORECASE | re.DOTALL)
        self.competitor, self.patience = competitor, patience
        self.owner = threading.get_ident()
        self.fired = self.finished_first = False
        self.result: Any = None
        self.error: BaseException | None = None
        self.thread: threading.Thread | None = None

    def _run(self) -> None:
        try:
            self.result = self.competitor()
        except BaseException as error:  # handed back to the test when the block ends
            self.error = error

    def _before(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if self.fired or threading.get_ident() != self.owner or not self.pattern.search(statement):
            return
        self.fired = True
        self.thread = threading.Thread(target=self._run, name="competitor")
        self.thread.start()
        self.thread.join(self.patience)
        self.finished_first = not self.thread.is_alive()

    def __enter__(self) -> Interleave:
        event.listen(get_engine(), "before_cursor_execute", self._before)
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if self.thread is not None:
                self.thread.join(60)
                assert not self.thread.is_alive(), "the competing action never finished"
        finally:
            event.remove(get_engine(), "before_cursor_execute", self._before)
        if self.error is not None and exc[0] is None:
            raise self.error


class AllReadNoneWritten:
    """Hold each of `parties` threads just before its first write (or row lock) until every one has reached its own.

    Two requests that both read before either writes is the interleaving a read-check-write race needs;
    this makes it certain. A thread joins by calling `arm()`. If a party never writes, the others go on
    after `timeout` seconds.
    """

    def __init__(self, parties: int, timeout: float = 10.0):
        self.barrier = threading.Barrier(parties, timeout=timeout)
        self.local = threading.local()
        self.met = 0

    def arm(self) -> None:
        self.local.armed = True

    def _before(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not getattr(self.local, "armed", False) or not WRITE.search(statement):
            return
        self.local.armed = False
        try:
            self.barrier.wait()
            self.met += 1
        except threading.BrokenBarrierError:
            pass

    def __enter__(self) -> AllReadNoneWritten:
        event.listen(get_engine(), "before_cursor_execute", self._before)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(get_engine(), "before_cursor_execute", self._before)


def at_once(*actions: Callable[[], Any], gate: AllReadNoneWritten | None = None) -> list[Any]:
    """Run the actions in threads together (each armed on `gate`), and return what each returned."""
    results: list[Any] = [None] * len(actions)
    errors: list[BaseException] = []

    def run(index: int) -> None:
        if gate is not None:
            gate.arm()
        try:
            results[index] = actions[index]()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(actions))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    if errors:
        raise errors[0]
    return results
