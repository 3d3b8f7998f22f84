"""The Celery application, configured from settings: `make_celery()` builds it, nothing is built at import.

`worker.py` calls `make_celery()` for `celery -A worker worker` and `celery -A worker beat`; the tasks
(newsletter/delivery/tasks.py) are `shared_task`s, so they join whichever app the process made. A web
or command-line process only queues work: `producer(settings)` is the app it sends task messages
with, made on first use, one per broker address.

Redis is only the broker: the delivery rows are the record of who got mail, so a lost Redis
message costs time, never a recipient. Hence acks_late with reject-on-worker-lost (a killed
worker's message goes back to the queue), and no ETAs longer than a few seconds.
"""

from __future__ import annotations

import logging
import sys
import threading

from celery import Celery, signals

from newsletter.config import Settings, SettingsError, get_settings
from newsletter.logs import adopt_handlers

TASK_MODULES = ["newsletter.delivery.tasks"]


def make_celery(settings: Settings | None = None) -> Celery:
    settings = settings or get_settings()
    app = Celery("newsletter", include=TASK_MODULES)
    app.conf.update(
        # With no Redis the embedded runner sends in-process; Celery then never gets a message.
        broker_url=settings.redis_url or "memory://",
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_transport_options={"visibility_timeout": 3600},
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        worker_hijack_root_logger=False,
        beat_schedule={"tick": {"task": "newsletter.tick", "schedule": settings.tick_seconds}},
    )
    return app


_producers: dict[str, Celery] = {}
_producers_lock = threading.Lock()


def producer(settings: Settings) -> Celery:
    """The app a web or command-line process queues tasks with (it never runs them)."""
    broker = settings.redis_url or "memory://"
    with _producers_lock:
        if broker not in _producers:
            _producers[broker] = make_celery(settings)
        return _producers[broker]


@signals.after_setup_logger.connect
@signals.after_setup_task_logger.connect
def _log_format(logger: logging.Logger, **_: object) -> None:
    """Workers and beat write lines as the web app does: NEWSLETTER_LOG_FORMAT=json gives JSON lines
    with the task, campaign and delivery ids (Celery keeps its handlers, levels and --logfile)."""
    try:
        log_format = get_settings().log_format
    except SettingsError:
        return  # the start-up check below says what is wrong
    adopt_handlers(logger, log_format)


@signals.celeryd_init.connect
@signals.beat_init.connect
def _refuse_development_secret(**_: object) -> None:
    """A worker or beat with the built-in secret would sign links for a public address: stop with one line.

    Celery logs and swallows exceptions from signal handlers, so this exits instead of raising.
    """
    try:
        get_settings().refuse_development_secret_off_loopback()
    except SettingsError as error:
        print(f"Error: {error}", file=sys.stderr)
        raise SystemExit(2) from None


__all__ = ["make_celery", "producer"]
