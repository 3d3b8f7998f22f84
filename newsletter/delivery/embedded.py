"""The embedded default's worker: the same sending logic, in this process, with no Redis.

The delivery rows already are the queue, so a thread draining them has the same crash behaviour as
the Celery path: rows it held come back after their lease, and nothing is lost.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from newsletter import maintenance
from newsletter.config import Settings
from newsletter.db import session_scope
from newsletter.delivery import campaigns, heartbeat
from newsletter.delivery.ratelimit import DatabaseLimiter, Rate
from newsletter.delivery.sender import work
from newsletter.delivery.transport import transport_for

log = logging.getLogger(__name__)


class EmbeddedRunner:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.transport = transport_for(settings)
        servers = settings.smtp_servers
        name, rate, per_day = ((servers[0].name, servers[0].rate, servers[0].per_day) if servers
                               else ("outbox", settings.send_rate, settings.send_rate_per_day))
        # In the database, not in this process: `newsletter serve` and `newsletter send --wait` (or
        # several web processes) may run at once, and together they must keep to one rate.
        self.limiter = DatabaseLimiter(name, Rate(rate, per_day, settings.burst_for(rate)))
        # Not at the very start: a short-lived runner (`send --wait`) is not the place; a serve is, a minute in.
        self.next_maintenance_check = time.monotonic() + 60
        # This loop is the embedded default's tick; it steps many times a second, its heartbeat need not.
        self.heartbeat = heartbeat.Throttled(settings.tick_seconds)

    def step(self) -> float:
        """Start due campaigns and work on running ones; returns how long to wait before the next step.

        One campaign that fails in an unexpected way is logged and left for the next step; the
        others are still worked on.
        """
        if self.heartbeat.due():
            with session_scope() as session:
                heartbeat.record(session)
        if time.monotonic() >= self.next_maintenance_check:
            # The embedded default's daily retention run; a read a minute, a run a day (newsletter/maintenance.py).
            self.next_maintenance_check = time.monotonic() + 60
            maintenance.run_if_due(self.settings)
        with session_scope() as session:
            campaigns.start_due(session)
        with session_scope() as session:
            campaigns.sweep_stopped(session)
        with session_scope() as session:
            active = campaigns.running(session)
        wait = 1.0
        for campaign_id in active:
            try:
                report = work(campaign_id, self.settings, self.transport, self.limiter, max_seconds=5.0)
            except Exception:  # noqa: BLE001 — the rows are safe; the next step tries again
                log.exception("sending campaign %s failed in this step", campaign_id)
                continue
            if report.retry_after is not None:
                wait = min(wait, report.retry_after)
        return max(0.05, wait)

    def run_until(self, done: Callable[[], bool], on_step: Callable[[], None] | None = None,
                  stop: threading.Event | None = None) -> None:
        stop = stop or threading.Event()
        while not stop.is_set() and not done():
            wait = self.step()
            if on_step:
                on_step()
            if done():
                break
            stop.wait(wait)

    def close(self) -> None:
        self.transport.close()


def start_background(settings: Settings) -> tuple[threading.Thread, threading.Event]:
    """The web app's companion on the embedded default: sends scheduled and running campaigns."""
    stop = threading.Event()
    runner = EmbeddedRunner(settings)

    def loop() -> None:
        while not stop.is_set():
            try:
                wait = runner.step()
            except Exception:  # keep the service up; the rows are safe and the next step retries
                log.exception("embedded sender step failed")
                wait = 5.0
            stop.wait(wait)
        runner.close()

    thread = threading.Thread(target=loop, name="newsletter-sender", daemon=True)
    thread.start()
    return thread, stop
