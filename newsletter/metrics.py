"""What `/metrics` reports, in Prometheus' text format (prometheus_client).

The service's figures (campaigns and deliveries by state, send rate, retries, bounces and complaints,
the queue, the rate limiter's wait, the last tick) are read from the database and Redis at scrape
time by `ServiceCollector`, a handful of GROUP BY queries. Keeping no counters in memory means the
several gunicorn processes behind one address, and a restart, all report the same figures: a
scrape may reach any of them.

Web request latency is the one figure only a web process knows: a histogram fed by a hook around
every request (newsletter/web/observe.py). With several gunicorn processes, set
PROMETHEUS_MULTIPROC_DIR to an empty folder before they start and the histogram is summed over all
of them (prometheus_client's multiprocess mode).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable, Iterator
from datetime import timedelta

import redis
from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from sqlalchemy import case, func, or_, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.db import session_scope, utcnow
from newsletter.delivery import heartbeat
from newsletter.delivery.models import Campaign, CampaignState, Delivery, DeliveryState, SendRateLimit
from subscribers import api as subscribers_api

log = logging.getLogger(__name__)

# Celery's default queue; kombu's Redis transport keeps it as a list under this key (and, for
# priorities, under the key with \x06\x16 and the priority appended).
CELERY_QUEUE = "celery"
_PRIORITY_SEPARATOR = "\x06\x16"
SEND_RATE_WINDOW = timedelta(seconds=60)
# Latency buckets for pages that render a template or an email preview (seconds).
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class ServiceCollector:
    """A prometheus_client collector that reads the figures from the database and Redis when scraped.

    A source that does not answer is reported by `newsletter_metrics_source_up{source}` = 0 and its
    figures are left out, so one scrape still says what it can.
    """

    def __init__(self, settings: Settings, redis_client: redis.Redis | None = None) -> None:
        self.settings = settings
        self.redis = redis_client

    def describe(self) -> Iterable[Metric]:
        return []  # no collect() at registration: that would query the database when the app starts

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("newsletter_metrics_source_up",
                               "Whether a source of these figures answered during this scrape", labels=["source"])
        try:
            with session_scope(self.settings.database_url) as session:
                found = list(_database_metrics(session, self.settings))
            if self.redis is None:
                found += _database_limiter_waits(self.settings)
        except SQLAlchemyError as error:
            log.warning("metrics: the database did not answer: %s", type(error).__name__)
            found = []
            up.add_metric(["database"], 0)
        else:
            up.add_metric(["database"], 1)
        if self.redis is not None:
            try:
                found += _redis_metrics(self.redis, self.settings)
            except (redis.RedisError, OSError) as error:
                log.warning("metrics: Redis did not answer: %s", type(error).__name__)
                up.add_metric(["redis"], 0)
            else:
                up.add_metric(["redis"], 1)
        yield up
        yield from found


def _database_metrics(session: Session, settings: Settings) -> Iterator[Metric]:
    campaigns = GaugeMetricFamily("newsletter_campaigns", "Campaigns in each state", labels=["state"])
    counts = dict(session.execute(select(Campaign.state, func.count()).group_by(Campaign.state)).all())
    for state in CampaignState:
        campaigns.add_metric([state.value], counts.get(state, 0))
    yield campaigns

    # One pass over the delivery rows: how many in each state, how many tries beyond the first, and
    # how many are waiting for a retry (queued after at least one try).
    rows = session.execute(
        select(Delivery.state, func.count(),
               func.coalesce(func.sum(case((Delivery.attempts > 1, Delivery.attempts - 1), else_=0)), 0),
               func.coalesce(func.sum(case((Delivery.attempts > 0, 1), else_=0)), 0))
        .group_by(Delivery.state)
    ).all()
    by_state = {state: (count, retries, tried) for state, count, retries, tried in rows}
    deliveries = GaugeMetricFamily("newsletter_deliveries", "Delivery rows (one per reader per campaign) in each "
                                   "state", labels=["state"])
    for state in DeliveryState:
        deliveries.add_metric([state.value], by_state.get(state, (0, 0, 0))[0])
    yield deliveries
    yield CounterMetricFamily("newsletter_messages_sent", "Messages accepted by the SMTP server (or written to "
                              "the outbox); rate() of it is the send rate",
                              value=by_state.get(DeliveryState.SENT, (0, 0, 0))[0])
    yield CounterMetricFamily("newsletter_delivery_retries", "Tries beyond the first, over every delivery row",
                              value=sum(int(retries) for _, retries, _ in by_state.values()))
    yield GaugeMetricFamily("newsletter_deliveries_waiting_retry", "Rows queued again after a temporary failure",
                            value=by_state.get(DeliveryState.QUEUED, (0, 0, 0))[2])
    yield GaugeMetricFamily("newsletter_send_rate", "Messages sent a second over the last minute",
                            value=_recent_sends(session) / SEND_RATE_WINDOW.total_seconds())

    events = subscribers_api.consent_event_counts(session, ["bounce", "complaint", "unsubscribe"])
    consent = CounterMetricFamily("newsletter_consent_events", "Bounces, complaints and unsubscribes recorded in "
                                  "the consent log", labels=["action"])
    for action, count in sorted(events.items()):
        consent.add_metric([action], count)
    yield consent
    subscribers = GaugeMetricFamily("newsletter_subscribers", "Subscribers by status (bounced and complained "
                                    "are suppressed)", labels=["status"])
    for status, count in sorted(subscribers_api.subscriber_totals(session).items()):
        subscribers.add_metric([status], count)
    yield subscribers

    tick = heartbeat.last(session)
    if tick is not None:
        yield GaugeMetricFamily("newsletter_last_tick_timestamp_seconds", "When the scheduler last ticked (Unix "
                                "time); time() minus it is how long ago", value=tick.timestamp())


def _recent_sends(session: Session) -> int:
    """Rows sent in the last minute, among campaigns running or finished within it (a few, so the
    campaign index keeps this from reading every row ever sent)."""
    since = utcnow() - SEND_RATE_WINDOW
    recent = select(Campaign.id).where(or_(Campaign.state == CampaignState.RUNNING, Campaign.finished_at >= since))
    return int(session.scalar(
        select(func.count()).select_from(Delivery)
        .where(Delivery.campaign_id.in_(recent), Delivery.state == DeliveryState.SENT, Delivery.sent_at >= since)
    ) or 0)


def _limiter_names(settings: Settings) -> list[tuple[str, float, int]]:
    """(name, rate, burst) of each shared limit, named as newsletter/delivery/tasks.py names them."""
    servers = settings.smtp_servers
    if servers:
        return [(server.name, server.rate, settings.burst_for(server.rate)) for server in servers]
    return [("outbox", settings.send_rate, settings.burst_for(settings.send_rate))]


def _wait_family() -> GaugeMetricFamily:
    return GaugeMetricFamily("newsletter_rate_limit_wait_seconds", "How long a message asking to go now would wait "
                             "for the shared send rate", labels=["server"])


def _wait_seconds(tat_us: int, now_us: int, rate: float, burst: int) -> float:
    # GCRA (newsletter/delivery/ratelimit.py): one message may go once tat + interval - burst * interval <= now.
    interval = max(1, int(1_000_000 / rate))
    return max(0.0, (tat_us + interval - burst * interval - now_us) / 1_000_000)


def _database_limiter_waits(settings: Settings) -> list[Metric]:
    family = _wait_family()
    with session_scope(settings.database_url) as session:
        clocks = dict(session.execute(select(SendRateLimit.name, SendRateLimit.tat_us)).all())
    now = int(time.time() * 1_000_000)
    for name, rate, burst in _limiter_names(settings):
        family.add_metric([name], _wait_seconds(int(clocks.get(name, 0)), now, rate, burst))
    return [family]


def _redis_metrics(client: redis.Redis, settings: Settings) -> list[Metric]:
    seconds, micros = client.time()
    now = int(seconds) * 1_000_000 + int(micros)
    waits = _wait_family()
    for name, rate, burst in _limiter_names(settings):
        tat = client.get(f"newsletter:rate:{name}")
        waits.add_metric([name], _wait_seconds(int(tat or 0), now, rate, burst))
    keys = [CELERY_QUEUE, *(f"{CELERY_QUEUE}{_PRIORITY_SEPARATOR}{p}" for p in range(1, 10))]
    with client.pipeline(transaction=False) as pipe:
        for key in keys:
            pipe.llen(key)
        depth = sum(int(n) for n in pipe.execute())
    queue = GaugeMetricFamily("newsletter_queue_messages", "Task messages waiting in the Celery queue on Redis",
                              labels=["queue"])
    queue.add_metric([CELERY_QUEUE], depth)
    return [waits, queue]


class WebMetrics:
    """One web app's registry: the service's figures and its request latency histogram."""

    def __init__(self, settings: Settings) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        client = (redis.Redis.from_url(settings.redis_url, socket_timeout=2, socket_connect_timeout=2)
                  if settings.redis_url else None)
        self.registry.register(ServiceCollector(settings, client))
        multiprocess = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
        # In multiprocess mode each process writes its samples to a file and the collector sums the files.
        self.latency = Histogram("newsletter_http_request_duration_seconds", "Time to answer a web request",
                                 ["method", "endpoint", "status"], buckets=LATENCY_BUCKETS,
                                 registry=None if multiprocess else self.registry)
        if multiprocess:
            from prometheus_client import multiprocess as prometheus_multiprocess

            prometheus_multiprocess.MultiProcessCollector(self.registry)

    def observe(self, method: str, endpoint: str, status: int, seconds: float) -> None:
        self.latency.labels(method, endpoint, str(status)).observe(seconds)


__all__ = ["ServiceCollector", "WebMetrics"]
