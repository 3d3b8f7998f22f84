"""Redis, a real Celery worker answering the doctor's ping, and the tick a real beat records."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest

from newsletter.config import Settings, load_settings
from newsletter.db import session_scope, utcnow
from newsletter.delivery import heartbeat
from newsletter.doctor.workers import celery_workers, redis_server, scheduler

from tests.delivery.test_workers import Processes, Redis, _env
from tests.smtp import SmtpServer, free_port


def _wait(until, timeout: float = 30.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = until()
        if found:
            return found
        time.sleep(0.25)
    return until()


@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
def test_a_worker_answers_the_ping_and_the_beat_records_its_tick(db: Settings, tmp_path: Path) -> None:
    server = Redis(tmp_path)
    server.start()
    processes = Processes({}, tmp_path)
    try:
        current = load_settings(redis_url=server.url, tick_seconds=1)
        assert redis_server(current)[0].level == "ok"
        [none] = celery_workers(current, timeout=1)
        assert none.level == "error" and "No Celery worker answered" in none.message
        [never] = scheduler(current)
        assert never.level == "error" and "celery -A worker beat" in never.message
        with SmtpServer() as smtp:
            processes.env = _env(db, server.url, smtp.url)
            processes.worker("doctor-check")
            answered = _wait(lambda: [f for f in celery_workers(current, timeout=1) if f.level == "ok"])
            assert answered and "doctor-check@" in answered[0].message, celery_workers(current, timeout=1)
            processes.beat()
            ticked = _wait(lambda: [f for f in scheduler(current) if f.level == "ok"])
            assert ticked, scheduler(current)
    finally:
        processes.stop_all()
        server.stop()
    assert redis_server(current)[0].level == "error"  # Redis stopped


def test_redis_that_does_not_answer_is_an_error_and_none_is_the_embedded_default(settings: Settings) -> None:
    [away] = redis_server(load_settings(redis_url=f"redis://:hunter2pass@127.0.0.1:{free_port()}/0"))
    assert away.level == "error" and "does not answer" in away.message and "hunter2pass" not in away.message
    assert redis_server(settings)[0].level == "ok" and celery_workers(settings) == []


def test_an_old_tick_is_an_error_with_celery_and_a_warning_on_the_embedded_default(db: Settings) -> None:
    with session_scope() as session:
        heartbeat.record(session, at=utcnow() - timedelta(minutes=10))
    with_celery = load_settings(redis_url="redis://127.0.0.1:6379/0")
    [stale] = scheduler(with_celery)
    assert stale.level == "error" and "10 minutes ago" in stale.message
    assert scheduler(db)[0].level == "warning"
    with session_scope() as session:
        heartbeat.record(session)  # a second write of the same clock replaces the first
    assert scheduler(with_celery)[0].level == "ok"
