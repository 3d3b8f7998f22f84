"""When the scheduler last ticked, kept in the database so every process can see it.

`newsletter doctor` and `/metrics` must tell whether `celery -A worker beat` (or, on the embedded
default, the sending thread of `newsletter serve`) is alive. Celery keeps no record of that a web
process can read, and a Redis key would vanish with a Redis restart and not exist at all on the
embedded default; one row per clock in the database survives both, and several gunicorn workers
read the same answer.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime

from sqlalchemy import String
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from newsletter.db import Base, UTCDateTime, utcnow

TICK = "tick"


class Heartbeat(Base):
    """One row per clock ("tick"): the last time it ran."""

    __tablename__ = "heartbeats"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


def record(session: Session, name: str = TICK, at: datetime | None = None) -> None:
    """Write the time, in one statement: two ticks at once (a second beat by mistake) cannot fail on the key."""
    when = at or utcnow()
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(Heartbeat).values(name=name, at=when)
    session.execute(statement.on_conflict_do_update(index_elements=[Heartbeat.name], set_={"at": when}))


def last(session: Session, name: str = TICK) -> datetime | None:
    row = session.get(Heartbeat, name)
    return row.at if row is not None else None


class Throttled:
    """Records at most once every `every` seconds per process: the embedded sender steps many times a second."""

    def __init__(self, every: float) -> None:
        self.every = every
        self._last = float("-inf")
        self._lock = threading.Lock()

    def due(self) -> bool:
        with self._lock:
            now = time.monotonic()
            if now - self._last < self.every:
                return False
            self._last = now
            return True


__all__ = ["Heartbeat", "TICK", "Throttled", "last", "record"]
