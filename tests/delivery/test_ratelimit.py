"""The global rate limit holds across processes (real Redis), and throttling slows everyone."""

from __future__ import annotations

import multiprocessing
import time
import uuid

import pytest
import redis

from newsletter.delivery.ratelimit import DailyQuotaReached, LocalLimiter, Rate, RedisLimiter

REDIS_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture
def client() -> redis.Redis:
    connection = redis.Redis.from_url(REDIS_URL)
    try:
        connection.ping()
    except redis.RedisError as error:
        pytest.fail(f"Redis is needed at {REDIS_URL}: {error}")
    return connection


def _hammer(name: str, per_second: float, burst: int, seconds: float, queue: multiprocessing.Queue) -> None:
    limiter = RedisLimiter(redis.Redis.from_url(REDIS_URL), name, Rate(per_second, burst=burst))
    stamps = []
    end = time.time() + seconds
    while time.time() < end:
        limiter.acquire(1)
        stamps.append(time.time())
    queue.put(stamps)


def test_two_processes_share_one_limit(client: redis.Redis) -> None:
    name = f"test-{uuid.uuid4().hex[:8]}"
    rate, burst, seconds = 100.0, 10, 3.0
    queue: multiprocessing.Queue = multiprocessing.get_context("spawn").Queue()
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_hammer, args=(name, rate, burst, seconds, queue)) for _ in range(2)]
    for worker in workers:
        worker.start()
    stamps = sorted(queue.get(timeout=60) + queue.get(timeout=60))
    for worker in workers:
        worker.join(timeout=30)
    # A loose floor (the machine may be busy): the limiter lets messages through, it does not just block.
    assert len(stamps) > rate * seconds * 0.25, "the limiter should not starve senders"
    # In any one-second window, no more than the rate plus the burst allowance went out.
    worst = max(sum(1 for s in stamps if start <= s < start + 1.0) for start in stamps)
    assert worst <= rate + burst + 2, worst
    total_span = stamps[-1] - stamps[0]
    assert len(stamps) <= rate * total_span + burst + 2


def test_penalise_slows_every_holder(client: redis.Redis) -> None:
    name = f"test-{uuid.uuid4().hex[:8]}"
    first = RedisLimiter(client, name, Rate(1000, burst=5))
    second = RedisLimiter(redis.Redis.from_url(REDIS_URL), name, Rate(1000, burst=5))
    first.acquire(1)
    first.penalise(0.5)
    started = time.monotonic()
    second.acquire(1)
    assert time.monotonic() - started >= 0.4


def test_daily_quota(client: redis.Redis) -> None:
    limiter = RedisLimiter(client, f"test-{uuid.uuid4().hex[:8]}", Rate(10_000, per_day=25, burst=10))
    for _ in range(25):
        limiter.acquire(1)
    with pytest.raises(DailyQuotaReached, match="resumes at"):
        limiter.acquire(1)


def test_local_limiter_paces_one_process() -> None:
    limiter = LocalLimiter(Rate(200, burst=5))
    started = time.monotonic()
    for _ in range(105):
        limiter.acquire(1)
    assert time.monotonic() - started >= 0.45  # 100 beyond the burst at 200/s
    quota = LocalLimiter(Rate(1000, per_day=3, burst=3))
    for _ in range(3):
        quota.acquire(1)
    with pytest.raises(DailyQuotaReached):
        quota.acquire(1)
