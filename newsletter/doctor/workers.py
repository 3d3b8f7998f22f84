"""Redis, the Celery workers and the scheduler (beat): whether anything will actually send."""

from __future__ import annotations

from datetime import datetime, timedelta

import redis
from sqlalchemy.exc import SQLAlchemyError

from newsletter.config import Settings
from newsletter.db import session_scope, utcnow
from newsletter.doctor.findings import Finding, error, ok, warning
from newsletter.localtime import shown

PING_SECONDS = 2.0


def redis_server(settings: Settings) -> list[Finding]:
    if not settings.redis_url:
        return [ok("redis", "No NEWSLETTER_REDIS_URL: the embedded default, where `newsletter serve` sends in its "
                   "own process. For Celery workers, set it and run `celery -A worker worker` and `celery -A "
                   "worker beat`.")]
    try:
        redis.Redis.from_url(settings.redis_url, socket_timeout=3, socket_connect_timeout=3).ping()
    except (redis.RedisError, OSError) as problem:
        return [error("redis", f"Redis at {_without_password(settings.redis_url)} does not answer ({problem}): "
                      "nothing can be queued for the workers. Start Redis or correct NEWSLETTER_REDIS_URL.")]
    return [ok("redis", f"Redis at {_without_password(settings.redis_url)} answers.")]


def _without_password(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.password:
        netloc = f"{parts.username or ''}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
        return parts._replace(netloc=netloc).geturl()
    return url


def celery_workers(settings: Settings, timeout: float = PING_SECONDS) -> list[Finding]:
    """Ask every worker to answer a ping, through the broker, as `celery inspect ping` does."""
    if not settings.redis_url:
        return []
    from newsletter.delivery.celery_app import make_celery

    app = make_celery(settings)
    try:
        with app.connection_for_write() as connection:
            replies = app.control.ping(timeout=timeout, connection=connection) or []
    except Exception as problem:  # noqa: BLE001 — the broker's own errors vary by transport
        return [error("workers", f"Could not ask the Celery workers through Redis: {problem}.")]
    finally:
        app.close()
    names = sorted(name for reply in replies for name in reply)
    if not names:
        return [error("workers", f"No Celery worker answered within {timeout:g} s: campaigns will not be sent. Start "
                      "`celery -A worker worker` (as a service, see deploy/) with the same settings.")]
    return [ok("workers", f"{len(names)} Celery worker{'s' if len(names) != 1 else ''} answered: {', '.join(names)}.")]


def stale_after(settings: Settings) -> timedelta:
    """A tick later than this means the scheduler has stopped (a few missed ticks are normal under load)."""
    return timedelta(seconds=max(60.0, 5 * settings.tick_seconds))


def scheduler(settings: Settings, now: datetime | None = None) -> list[Finding]:
    from newsletter.delivery import heartbeat

    try:
        with session_scope(settings.database_url) as session:
            last = heartbeat.last(session)
    except SQLAlchemyError:
        return []  # the database check has said what is wrong
    now = now or utcnow()
    with_celery = bool(settings.redis_url)
    who = "`celery -A worker beat`" if with_celery else "`newsletter serve` (its sending thread)"
    if last is None:
        message = f"The scheduler has never ticked here: start {who}, once."
        return [error("scheduler", message) if with_celery else warning("scheduler", message)]
    age = now - last
    when = shown(last, "%-d %B %Y at %H:%M:%S %Z", settings)
    if age > stale_after(settings):
        minutes = int(age.total_seconds() // 60)
        message = (f"The scheduler last ticked {minutes} minute{'s' if minutes != 1 else ''} ago ({when}): scheduled "
                   f"campaigns will not start and stalled ones will not be picked up. Is {who} running?")
        return [error("scheduler", message) if with_celery else warning("scheduler", message)]
    return [ok("scheduler", f"The scheduler last ticked {int(age.total_seconds())} s ago ({when}).")]


__all__ = ["celery_workers", "redis_server", "scheduler", "stale_after"]
