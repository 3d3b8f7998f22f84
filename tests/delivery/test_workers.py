"""Real Celery worker processes on a real Redis, PostgreSQL and SMTP server: nobody lost, nobody twice.

Each test runs its own redis-server on a free port (so it can be stopped and started) and starts
`celery -A worker worker` and `celery -A worker beat` as separate processes, as in production.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from newsletter.config import Settings
from newsletter.db import session_scope
from newsletter.delivery import campaigns
from newsletter.delivery.models import Campaign, CampaignState, Delivery, DeliveryState, campaign_lists
from newsletter.issues import store

from tests.conftest import ROOT
from tests.delivery.conftest import SLUG, approved_issue, make_list, make_readers
from tests.smtp import SmtpServer, free_port

pytestmark = pytest.mark.parametrize("db", ["postgresql"], indirect=True)
REDIS_SERVER = "/usr/bin/redis-server"


class Redis:
    """A private redis-server with no persistence, like the production broker."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.folder = folder
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        import redis

        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                redis.Redis.from_url(self.url).ping()
                return
            except redis.RedisError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


class Processes:
    """Celery worker and beat processes with the test's settings in their environment."""

    def __init__(self, env: dict[str, str], folder: Path) -> None:
        self.env = env
        self.folder = folder
        self.running: list[subprocess.Popen[bytes]] = []

    def _start(self, *args: str, name: str) -> subprocess.Popen[bytes]:
        log = open(self.folder / f"{name}.log", "ab")
        process = subprocess.Popen([sys.executable, "-m", "celery", "-A", "worker", *args], cwd=ROOT, env=self.env,
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.running.append(process)
        return process

    def worker(self, name: str) -> subprocess.Popen[bytes]:
        return self._start("worker", "--concurrency=1", "--loglevel=WARNING", f"--hostname={name}@%h",
                           "--without-gossip", "--without-mingle", name=name)

    def beat(self) -> subprocess.Popen[bytes]:
        return self._start("beat", "--loglevel=WARNING", f"--schedule={self.folder / 'beat-schedule'}", name="beat")

    @staticmethod
    def kill(process: subprocess.Popen[bytes]) -> None:
        """SIGKILL the whole worker (main process and pool child), as a crashed machine would."""
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def stop_all(self) -> None:
        for process in self.running:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.running:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[Redis]:
    server = Redis(tmp_path)
    server.start()
    yield server
    server.stop()


def _env(settings: Settings, redis_url: str, smtp_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSLETTER_")}
    env.update({k: v for k, v in os.environ.items() if k.startswith("NEWSLETTER_")})
    env.update({
        "NEWSLETTER_DATABASE_URL": settings.database_url,
        "NEWSLETTER_REDIS_URL": redis_url,
        "NEWSLETTER_SMTP_URL": smtp_url,
        "NEWSLETTER_SEND_RATE": "5000",
        "NEWSLETTER_SEND_BURST": "200",
        "NEWSLETTER_SEND_LEASE_SECONDS": "6",
        "NEWSLETTER_SEND_RETRY_BASE_SECONDS": "0.2",
        "NEWSLETTER_SEND_PARALLELISM": "2",
        "NEWSLETTER_TICK_SECONDS": "1",
        "PYTHONPATH": str(ROOT),
    })
    env.update(extra)
    return env


def _start_campaign(settings: Settings, readers: int) -> int:
    approved_issue(settings)
    make_readers(make_list(), readers)
    with session_scope() as session:
        return campaigns.create_campaign(session, store.get_issue(session, SLUG), ["send-news"], settings).id


def _wait_finished(campaign_id: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with session_scope() as session:
            if session.get(Campaign, campaign_id).state is CampaignState.FINISHED:
                return
        time.sleep(0.25)
    with session_scope() as session:
        counts = campaigns.progress(session, campaign_id).counts
        holders = session.execute(
            select(Delivery.claim_token, func.count(), func.min(Delivery.lease_until), func.max(Delivery.lease_until))
            .where(Delivery.campaign_id == campaign_id, Delivery.state == DeliveryState.SENDING)
            .group_by(Delivery.claim_token)
        ).all()
    pytest.fail(f"campaign {campaign_id} not finished after {timeout}s: {counts}; claims held: {holders}")


def _wait_for_log(folder: Path, names: tuple[str, ...], needles: tuple[str, ...], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for name in names:
            path = folder / name
            text = path.read_text(errors="replace") if path.exists() else ""
            if any(needle in text for needle in needles):
                return
        time.sleep(0.05)
    pytest.fail(f"no worker logged any of {needles} within {timeout}s")


def _wait_sent(campaign_id: int, at_least: int, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with session_scope() as session:
            sent = session.scalar(select(func.count()).where(Delivery.campaign_id == campaign_id,
                                                             Delivery.state == DeliveryState.SENT))
        if sent >= at_least:
            return
        time.sleep(0.05)
    pytest.fail(f"fewer than {at_least} sent after {timeout}s")


def _unsubscribe_links_match(server: SmtpServer, settings: Settings) -> None:
    """Every message carries the unsubscribe link of the person it was addressed to, for the campaign's lists."""
    from subscribers.links import UNSUBSCRIBE, read_token
    from subscribers.models import Subscriber

    with session_scope() as session:
        keys = {s.email: s.token_key for s in session.scalars(select(Subscriber))}
        lists = tuple(sorted(session.scalars(select(campaign_lists.c.list_id))))
    for received in server.messages:
        message = received.message
        recipient = received.recipients[0]
        link = str(message["List-Unsubscribe"]).split(">")[0].lstrip("<")
        assert link.startswith(f"{settings.base_url}/u/")
        target = read_token(settings, UNSUBSCRIBE, link.rsplit("/", 1)[1])
        assert target.token_key == keys[recipient] and tuple(sorted(target.list_ids)) == lists, recipient
        assert link.replace("&", "&amp;") in message.get_body(("html",)).get_content()
        assert str(message["To"]).endswith(f"<{recipient}>")


def test_two_workers_send_5000_each_exactly_once(db: Settings, tmp_path: Path, redis_server: Redis) -> None:
    campaign_id = _start_campaign(db, 5000)
    with SmtpServer() as server:
        # Nobody is killed here, so a long lease: a worker stalled by a busy machine keeps its rows.
        processes = Processes(_env(db, redis_server.url, server.url, NEWSLETTER_SEND_LEASE_SECONDS="60"), tmp_path)
        try:
            processes.worker("one")
            processes.worker("two")
            processes.beat()
            # aiosmtpd takes about 300 messages a second on a quiet machine; allow for a busy one.
            _wait_finished(campaign_id, timeout=600)
        finally:
            processes.stop_all()
        received = server.handler.by_recipient()
        assert len(server.messages) == 5000 and len(received) == 5000 and set(received.values()) == {1}
        with session_scope() as session:
            counts = campaigns.progress(session, campaign_id).counts
        assert counts[DeliveryState.SENT] == 5000 == len(server.messages)
        _unsubscribe_links_match(server, db)


def test_a_killed_worker_loses_nobody(db: Settings, tmp_path: Path, redis_server: Redis) -> None:
    from newsletter.delivery.sender import FLUSH_EVERY

    campaign_id = _start_campaign(db, 2000)
    with SmtpServer() as server:
        processes = Processes(_env(db, redis_server.url, server.url, NEWSLETTER_SEND_PARALLELISM="1"), tmp_path)
        try:
            victim = processes.worker("victim")
            processes.beat()
            _wait_sent(campaign_id, 300)
            processes.kill(victim)
            processes.worker("rescuer")
            _wait_finished(campaign_id, timeout=240)
        finally:
            processes.stop_all()
        received = server.handler.by_recipient()
        duplicates = sum(n - 1 for n in received.values())
        assert len(received) == 2000, "nobody lost"
        # Only messages accepted since the victim's last flush can go twice: at most one flush's worth.
        assert duplicates <= FLUSH_EVERY, duplicates
        with session_scope() as session:
            assert campaigns.progress(session, campaign_id).counts[DeliveryState.SENT] == 2000


def test_redis_restart_mid_send_loses_nobody(db: Settings, tmp_path: Path, redis_server: Redis) -> None:
    campaign_id = _start_campaign(db, 1500)
    with SmtpServer() as server:
        processes = Processes(_env(db, redis_server.url, server.url), tmp_path)
        try:
            processes.worker("one")
            processes.worker("two")
            processes.beat()
            _wait_sent(campaign_id, 200)
            redis_server.stop()  # no persistence: every queued message is gone
            # The outage lasts until a worker has run into it (a refused connection in its log).
            _wait_for_log(tmp_path, ("one.log", "two.log"), ("Connection refused", "Error 111", "unavailable"))
            redis_server.start()
            _wait_finished(campaign_id, timeout=240)
        finally:
            processes.stop_all()
        received = server.handler.by_recipient()
        assert len(received) == 1500
        assert sum(n - 1 for n in received.values()) <= 2 * 50


def test_rate_limit_holds_across_two_workers(db: Settings, tmp_path: Path, redis_server: Redis) -> None:
    rate, burst = 40, 10
    campaign_id = _start_campaign(db, 300)
    stamps: list[float] = []

    def clock(address: str, elapsed: float) -> None:
        stamps.append(time.monotonic())
        return None

    with SmtpServer([clock]) as server:  # type: ignore[list-item]
        processes = Processes(_env(db, redis_server.url, server.url, NEWSLETTER_SEND_RATE=str(rate),
                                   NEWSLETTER_SEND_BURST=str(burst), NEWSLETTER_SEND_LEASE_SECONDS="60"), tmp_path)
        try:
            processes.worker("one")
            processes.worker("two")
            processes.beat()
            _wait_finished(campaign_id, timeout=120)
        finally:
            processes.stop_all()
        received = server.handler.by_recipient()
    assert len(received) == 300 and set(received.values()) == {1}, received.most_common(3)
    stamps.sort()
    worst = max(sum(1 for s in stamps if start <= s < start + 1.0) for start in stamps)
    overall = (len(stamps) - burst) / (stamps[-1] - stamps[0])
    assert worst <= rate + burst, f"{worst} messages in one second"
    assert overall <= rate * 1.05, f"{overall:.1f}/s overall"
