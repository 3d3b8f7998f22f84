"""Celery tasks: thin. Each fetches what it needs, calls the sending logic, and decides what next.

A task message only says "work on campaign C". The tick re-queues campaigns that have work but no
worker on them (a lost message, a Redis restart, a killed worker), so the queue can lose messages
without the campaign losing readers.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import redis
from celery import shared_task

from newsletter import maintenance
from newsletter.config import get_settings
from newsletter.db import session_scope
from newsletter.delivery import campaigns, heartbeat
from newsletter.delivery.celery_app import producer
from newsletter.delivery.ratelimit import Rate, RedisLimiter
from newsletter.delivery.sender import work
from newsletter.delivery.subscriber_mail import outgoing
from newsletter.delivery.transport import SmtpTransport, Transport, transport_for
from subscribers import api as subscribers_api

log = logging.getLogger(__name__)

SLICE_SECONDS = 30.0


@dataclass
class Route:
    """One SMTP server as a worker uses it: its open connection and its own shared rate limit."""

    transport: Transport
    limiter: RedisLimiter


class _ProcessResources:
    """Per worker process: one Redis client and one open connection to each SMTP server.

    With several servers, successive slices of work go to them in turn, and a server that cannot be
    reached is skipped at once (its rows go back to the queue for the next slice).
    """

    def __init__(self) -> None:
        self.pid = -1
        self.routes: list[Route] = []
        self.redis: redis.Redis | None = None
        self.turn = 0

    def _open(self) -> None:
        settings = get_settings()
        self.pid = os.getpid()
        self.redis = redis.Redis.from_url(settings.redis_url or "redis://127.0.0.1:6379/0",
                                          socket_timeout=5, socket_connect_timeout=5)
        servers = settings.smtp_servers
        if servers:
            self.routes = [Route(SmtpTransport(server.url),
                                 RedisLimiter(self.redis, server.name, Rate(server.rate, server.per_day,
                                                                             settings.burst_for(server.rate))))
                           for server in servers]
        else:
            self.routes = [Route(transport_for(settings), RedisLimiter(
                self.redis, "outbox", Rate(settings.send_rate, settings.send_rate_per_day,
                                           settings.burst_for(settings.send_rate))))]

    def redis_client(self) -> redis.Redis:
        if self.pid != os.getpid():  # a forked pool child must not share its parent's sockets
            self._open()
        assert self.redis is not None
        return self.redis

    def next_route(self) -> Route:
        self.redis_client()
        route = self.routes[self.turn % len(self.routes)]
        self.turn += 1
        return route


_resources = _ProcessResources()


def _heartbeat_key(campaign_id: int) -> str:
    return f"newsletter:campaign:{campaign_id}:heartbeat"


def _heartbeat_ttl() -> int:
    """A campaign with no heartbeat for this long has no live worker; the tick hands it out again."""
    return max(5, int(get_settings().send_lease_seconds))


@shared_task(name="newsletter.work_on_campaign", acks_late=True, reject_on_worker_lost=True)
def work_on_campaign(campaign_id: int) -> str:
    settings = get_settings()
    client = _resources.redis_client()
    route = _resources.next_route()

    def heartbeat() -> None:
        try:
            client.set(_heartbeat_key(campaign_id), os.getpid(), ex=_heartbeat_ttl())
        except redis.RedisError:
            pass  # the rows are the record; a missed heartbeat only means the tick may add a helper

    report = work(campaign_id, settings, route.transport, route.limiter, max_seconds=SLICE_SECONDS,
                  heartbeat=heartbeat)
    if report.stopped_because == "smtp unreachable" and len(_resources.routes) > 1:
        report.retry_after = 0.0  # another server may answer: try it now rather than after the backoff
    if not report.finished and report.retry_after is not None:
        # A short countdown only (far below the visibility timeout); the tick covers anything longer.
        try:
            work_on_campaign.apply_async((campaign_id,), countdown=min(report.retry_after, 10.0), retry=False)
        except Exception as error:  # broker away: the tick re-queues the campaign when it is back
            log.warning("could not re-queue campaign %s: %s", campaign_id, error)
    return f"{report.stopped_because}: sent {report.sent}"


@shared_task(name="newsletter.tick")
def tick() -> list[int]:
    """Start due scheduled campaigns and re-queue running ones nobody is working on."""
    settings = get_settings()
    client = _resources.redis_client()
    with session_scope() as session:
        # First, so `newsletter doctor` and /metrics see the beat alive even when the rest of the tick fails.
        heartbeat.record(session)
    with session_scope() as session:
        started = campaigns.start_due(session)
    with session_scope() as session:
        # Once a day, whichever tick gets there first: the retention jobs, as a task of their own
        # (queued once the claim is committed).
        maintenance_due = maintenance.claim_daily(session)
    if maintenance_due:
        run_maintenance.delay()
    with session_scope() as session:
        campaigns.sweep_stopped(session)
    with session_scope() as session:
        active = campaigns.running(session)
    queued = []
    for campaign_id in active:
        fresh = campaign_id in started
        if fresh or not client.exists(_heartbeat_key(campaign_id)):
            client.set(_heartbeat_key(campaign_id), "queued", ex=_heartbeat_ttl())
            for _ in range(settings.send_parallelism):
                work_on_campaign.delay(campaign_id)
            queued.append(campaign_id)
    return queued


@shared_task(name="newsletter.maintenance", ignore_result=True)
def run_maintenance() -> int:
    """The retention jobs (newsletter/maintenance.py), queued once a day by the tick; returns how many failed."""
    outcomes = maintenance.run_jobs(get_settings())
    return sum(1 for outcome in outcomes if outcome.error)


def start(campaign_id: int) -> None:
    """Hand a running campaign to the workers (from the web app or the command line)."""
    settings = get_settings()
    sender = producer(settings)
    for _ in range(settings.send_parallelism):
        sender.send_task("newsletter.work_on_campaign", args=[campaign_id])


@shared_task(name="subscribers.preferences_link", acks_late=True, ignore_result=True)
def preferences_link(email: str) -> None:
    """"Email me a new link": the message carries only the address typed; the lookup happens here."""
    settings = get_settings()
    subscribers_api.send_preferences_link_logged(settings, email, outgoing(settings))
