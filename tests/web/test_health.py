"""/healthz, /readyz and /metrics: for load balancers and Prometheus, on SQLite and PostgreSQL.

/metrics is read with prometheus_client's own parser after a real send through a real SMTP server:
one reader refused for good (a bounce), one refused for a while (a retry).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from newsletter.config import Settings, load_settings
from newsletter.db import session_scope
from newsletter.delivery import campaigns
from newsletter.delivery.embedded import EmbeddedRunner
from newsletter.delivery.transport import SmtpTransport
from newsletter.issues import store
from newsletter.web import create_app

from tests.delivery.conftest import SLUG, approved_issue, make_list, make_readers, run_to_end
from tests.smtp import SmtpServer, free_port

TOKEN = "metrics-token-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def test_healthz_answers_without_login_and_is_never_cached(db: Settings) -> None:
    client = create_app(db).test_client()
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"ok": True}
    assert response.headers["Cache-Control"] == "no-store"


def test_readyz_checks_the_database_and_redis(db: Settings, tmp_path: Path) -> None:
    response = create_app(db).test_client().get("/readyz")
    assert response.status_code == 200 and response.json == {"ok": True, "checks": {"database": {"ok": True}}}
    assert response.headers["Cache-Control"] == "no-store"
    with_redis = load_settings(redis_url="redis://127.0.0.1:6379/0")
    assert create_app(with_redis).test_client().get("/readyz").json["checks"]["redis"] == {"ok": True}
    away = load_settings(redis_url=f"redis://127.0.0.1:{free_port()}/0")
    response = create_app(away).test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json == {"ok": False, "checks": {"database": {"ok": True}, "redis": {"ok": False}}}


def test_readyz_is_503_and_healthz_200_when_the_database_is_away(settings: Settings) -> None:
    away = load_settings(database_url=f"postgresql://news@127.0.0.1:{free_port()}/news")
    client = create_app(away).test_client()
    assert client.get("/healthz").status_code == 200
    response = client.get("/readyz")
    assert response.status_code == 503 and response.json["checks"]["database"] == {"ok": False}
    assert "127.0.0.1" not in response.get_data(as_text=True)  # what failed goes to the log, not the public


def test_metrics_is_404_without_a_token_setting_and_401_without_the_token(db: Settings) -> None:
    assert create_app(db).test_client().get("/metrics", headers=AUTH).status_code == 404
    client = create_app(load_settings(metrics_token=TOKEN)).test_client()
    for headers in ({}, {"Authorization": "Bearer wrong-token-0123456789abcd"}, {"Authorization": TOKEN},
                    {"Authorization": f"Basic {TOKEN}"}):
        response = client.get("/metrics", headers=headers)
        assert response.status_code == 401 and response.headers["WWW-Authenticate"].startswith("Bearer")
    response = client.get("/metrics", headers=AUTH)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert response.content_type.startswith("text/plain; version=")


def test_metrics_after_a_real_send(db: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {"NEWSLETTER_SEND_RETRY_BASE_SECONDS": "0.05", "NEWSLETTER_SEND_RATE": "2000",
                        "NEWSLETTER_METRICS_TOKEN": TOKEN}.items():
        monkeypatch.setenv(name, value)
    from newsletter.config import get_settings, reset_settings

    reset_settings()
    current = get_settings()
    approved_issue(current)
    make_readers(make_list(), 6)
    tried: list[str] = []
    rules = [lambda rcpt, _t: "550 5.1.1 mailbox unknown" if rcpt == "reader1@example.org" else None,
             lambda rcpt, _t: "451 4.3.0 try later" if rcpt == "reader2@example.org" and not tried.append(rcpt)
             and len(tried) == 1 else None]  # reader2's first try only
    with session_scope() as session:
        campaign_id = campaigns.create_campaign(session, store.get_issue(session, SLUG), ["send-news"], current).id
    with SmtpServer(rules=rules) as smtp:
        transport = SmtpTransport(smtp.url)
        run_to_end(current, campaign_id, transport)
        transport.close()
        assert smtp.handler.by_recipient()["reader2@example.org"] == 1
    EmbeddedRunner(current).step()  # the embedded default's tick
    client = create_app(current).test_client()
    client.get("/subscribe")
    samples = _samples(client.get("/metrics", headers=AUTH).get_data(as_text=True))

    def value(name: str, **labels: str) -> float:
        return samples[(name, tuple(sorted(labels.items())))]

    assert value("newsletter_metrics_source_up", source="database") == 1
    assert value("newsletter_campaigns", state="finished") == 1 and value("newsletter_campaigns", state="running") == 0
    assert value("newsletter_deliveries", state="sent") == 5 and value("newsletter_deliveries", state="bounced") == 1
    assert value("newsletter_deliveries", state="queued") == 0
    assert value("newsletter_messages_sent_total") == 5
    assert value("newsletter_delivery_retries_total") >= 1  # reader2's 451s
    assert value("newsletter_deliveries_waiting_retry") == 0
    assert value("newsletter_send_rate") == pytest.approx(5 / 60)
    assert value("newsletter_consent_events_total", action="bounce") == 1
    assert value("newsletter_subscribers", status="bounced") == 1 and value("newsletter_subscribers", status="active") == 5
    assert abs(value("newsletter_last_tick_timestamp_seconds") - time.time()) < 30
    assert ("newsletter_rate_limit_wait_seconds", (("server", "outbox"),)) in samples
    latency = [(dict(labels), count) for (name, labels), count in samples.items()
               if name == "newsletter_http_request_duration_seconds_count"]
    assert [(labels["method"], labels["status"]) for labels, count in latency if count == 1] == [("GET", "200")]
    assert all(not labels["endpoint"].startswith("health.") for labels, _ in latency)


@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
def test_queue_depth_and_the_limiters_wait_come_from_redis(db: Settings, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.delivery.test_workers import Redis

    server = Redis(tmp_path)
    server.start()
    try:
        import redis

        from newsletter.config import get_settings, reset_settings
        from newsletter.delivery import tasks

        for name, value in {"NEWSLETTER_REDIS_URL": server.url, "NEWSLETTER_METRICS_TOKEN": TOKEN,
                            "NEWSLETTER_SEND_PARALLELISM": "3", "NEWSLETTER_SEND_RATE": "1"}.items():
            monkeypatch.setenv(name, value)
        reset_settings()
        current = get_settings()

        tasks.start(12345)  # three task messages, and no worker to take them
        client = redis.Redis.from_url(server.url)
        seconds, micros = client.time()
        now_us = int(seconds) * 1_000_000 + int(micros)
        client.set("newsletter:rate:outbox", now_us + 10_000_000)  # the shared clock ten seconds ahead
        samples = _samples(create_app(current).test_client().get("/metrics", headers=AUTH).get_data(as_text=True))
    finally:
        server.stop()
    assert samples[("newsletter_metrics_source_up", (("source", "redis"),))] == 1
    assert samples[("newsletter_queue_messages", (("queue", "celery"),))] == 3
    assert samples[("newsletter_rate_limit_wait_seconds", (("server", "outbox"),))] == pytest.approx(10, abs=0.5)
