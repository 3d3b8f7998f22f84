"""A global send rate (messages per second and per day) shared by every worker on every machine.

Celery's own `rate_limit` is per worker process, so two workers would send twice as fast as the
SMTP provider allows. This is GCRA (a token bucket kept as one timestamp, the "theoretical arrival
time") in a Redis Lua script, so the check and the update are one atomic step on the server clock.
A throttling reply from the server pushes that timestamp forward, which slows every worker at once.
Without Redis (the embedded default) the same algorithm runs in process.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable, Protocol

import redis

# KEYS: tat, day counter. ARGV: interval_us, burst_us, quantity, per_day (0 = none), day_ttl_s.
# Returns {1, 0} when granted, {0, wait_us} when too early, {-1, 0} when today's quota is used up.
_GCRA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local quantity = tonumber(ARGV[3])
local per_day = tonumber(ARGV[4])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval * quantity
local allow_at = new_tat - burst
if allow_at > now then
  return {0, allow_at - now}
end
if per_day > 0 then
  local used = tonumber(redis.call('GET', KEYS[2]) or 0)
  if used + quantity > per_day then
    return {-1, 0}
  end
  redis.call('INCRBY', KEYS[2], quantity)
  redis.call('EXPIRE', KEYS[2], tonumber(ARGV[5]))
end
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.ceil((new_tat - now) / 1000) + 1000)
return {1, 0}
"""

# KEYS: tat. ARGV: delay_us. Moves the bucket's clock to at least now + delay.
_PENALISE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local target = now + tonumber(ARGV[1])
local tat = tonumber(redis.call('GET', KEYS[1]) or 0)
if tat < target then
  redis.call('SET', KEYS[1], string.format('%.0f', target), 'PX', math.ceil(tonumber(ARGV[1]) / 1000) + 1000)
end
return 1
"""


class LimiterUnavailable(Exception):
    """The shared limit cannot be consulted (its Redis is away): send nothing until it answers again."""


class DailyQuotaReached(Exception):
    """Today's message quota for this SMTP server is used up; sending resumes after midnight UTC."""

    def __init__(self, resume_at: datetime):
        self.resume_at = resume_at
        super().__init__(f"daily quota reached; sending resumes at {resume_at.isoformat(timespec='minutes')}")


@dataclass(frozen=True)
class Rate:
    per_second: float
    per_day: int = 0  # 0: no daily cap
    burst: int = 20  # how many may go at once after a quiet spell

    @property
    def interval_us(self) -> int:
        return max(1, int(1_000_000 / self.per_second))


def _next_midnight() -> datetime:
    now = datetime.now(timezone.utc)
    return (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)


class Limiter(Protocol):
    def acquire(self, quantity: int = 1) -> int:
        """Block until some messages may go; returns how many (at least 1, at most `quantity` and the burst)."""
        ...

    def penalise(self, seconds: float) -> None: ...


class RedisLimiter:
    def __init__(
        self, client: redis.Redis, name: str, rate: Rate, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self.client = client
        self.rate = rate
        self.key = f"newsletter:rate:{name}"
        self._gcra = client.register_script(_GCRA)
        self._penalise = client.register_script(_PENALISE)
        self._sleep = sleep

    def acquire(self, quantity: int = 1) -> int:
        """Block until messages may go and return how many; raise DailyQuotaReached or LimiterUnavailable.

        Never more than the burst at once: a caller that asked for more sends only what it was granted.
        """
        quantity = max(1, min(quantity, self.rate.burst))
        burst_us = self.rate.interval_us * self.rate.burst
        while True:
            day_key = f"{self.key}:day:{datetime.now(timezone.utc):%Y%m%d}"
            try:
                granted, wait_us = self._gcra(
                    keys=[self.key, day_key],
                    args=[self.rate.interval_us, burst_us, quantity, self.rate.per_day, 2 * 86400],
                )
            except (redis.RedisError, OSError) as error:
                raise LimiterUnavailable(str(error)) from error
            if granted == 1:
                return quantity
            if granted == -1:
                raise DailyQuotaReached(_next_midnight())
            self._sleep(min(int(wait_us) / 1_000_000, 5.0))

    def penalise(self, seconds: float) -> None:
        try:
            self._penalise(keys=[self.key], args=[int(seconds * 1_000_000)])
        except (redis.RedisError, OSError) as error:
            raise LimiterUnavailable(str(error)) from error


class LocalLimiter:
    """The same GCRA for one process (the embedded default has one sender)."""

    def __init__(self, rate: Rate, sleep: Callable[[float], None] = time.sleep) -> None:
        self.rate = rate
        self._tat = 0.0
        self._day = ""
        self._used = 0
        self._lock = threading.Lock()
        self._sleep = sleep

    def acquire(self, quantity: int = 1) -> int:
        quantity = max(1, min(quantity, self.rate.burst))
        interval = 1 / self.rate.per_second
        while True:
            with self._lock:
                now = time.monotonic()
                tat = max(self._tat, now)
                new_tat = tat + interval * quantity
                wait = new_tat - interval * self.rate.burst - now
                if wait <= 0:
                    today = f"{datetime.now(timezone.utc):%Y%m%d}"
                    if today != self._day:
                        self._day, self._used = today, 0
                    if self.rate.per_day and self._used + quantity > self.rate.per_day:
                        raise DailyQuotaReached(_next_midnight())
                    self._used += quantity
                    self._tat = new_tat
                    return quantity
            self._sleep(min(wait, 5.0))

    def penalise(self, seconds: float) -> None:
        with self._lock:
            self._tat = max(self._tat, time.monotonic() + seconds)


class DatabaseLimiter:
    """The same GCRA with its clock in the database: one limit for every process that shares it.

    For the embedded default, which has no Redis: `newsletter serve` and `newsletter send --wait`
    (or several web processes on PostgreSQL) would each apply the full rate with a limiter in memory.
    A compare-and-set on one row keeps the step atomic; it costs one short transaction per grant,
    which is a few a second at the rates a relay allows.
    """

    def __init__(self, name: str, rate: Rate, sleep: Callable[[float], None] = time.sleep) -> None:
        self.name = name
        self.rate = rate
        self._sleep = sleep

    def acquire(self, quantity: int = 1) -> int:
        from sqlalchemy import update
        from sqlalchemy.exc import IntegrityError

        from newsletter.db import session_scope
        from newsletter.delivery.models import SendRateLimit

        quantity = max(1, min(quantity, self.rate.burst))
        interval = self.rate.interval_us
        while True:
            now = int(time.time() * 1_000_000)
            today = f"{datetime.now(timezone.utc):%Y%m%d}"
            wait = 0
            try:
                with session_scope() as session:
                    row = session.get(SendRateLimit, self.name)
                    if row is None:
                        session.add(SendRateLimit(name=self.name, tat_us=0, day=today, used=0))
                        continue
                    new_tat = max(row.tat_us, now) + interval * quantity
                    wait = new_tat - interval * self.rate.burst - now
                    if wait <= 0:
                        used = row.used if row.day == today else 0
                        if self.rate.per_day and used + quantity > self.rate.per_day:
                            raise DailyQuotaReached(_next_midnight())
                        moved = session.execute(
                            update(SendRateLimit)
                            .where(SendRateLimit.name == self.name, SendRateLimit.tat_us == row.tat_us,
                                   SendRateLimit.day == row.day, SendRateLimit.used == row.used)
                            .values(tat_us=new_tat, day=today, used=used + quantity)
                            .execution_options(synchronize_session=False)
                        )
                        if moved.rowcount == 1:
                            return quantity
                        continue  # another process moved the clock between our read and write: read again
            except IntegrityError:
                continue  # two processes made the row at once; it exists now
            self._sleep(min(wait / 1_000_000, 5.0))

    def penalise(self, seconds: float) -> None:
        from sqlalchemy import case, update

        from newsletter.db import session_scope
        from newsletter.delivery.models import SendRateLimit

        target = int((time.time() + seconds) * 1_000_000)
        with session_scope() as session:
            session.execute(
                update(SendRateLimit).where(SendRateLimit.name == self.name)
                .values(tat_us=case((SendRateLimit.tat_us < target, target), else_=SendRateLimit.tat_us))
                .execution_options(synchronize_session=False)
            )
