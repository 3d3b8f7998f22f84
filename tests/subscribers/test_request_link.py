"""`/preferences` ("email me a new link") answers as fast for an address we know as for one we do not.

Mailing the link inside the request told a stranger which addresses are on our lists: a known address
answered only after the SMTP conversation. The SMTP server here takes a realistic quarter of a second to
accept each recipient (a relay across the internet takes that or more), so the difference, if any, is
plain; the link must still arrive, and only for the address we know.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from newsletter.config import Settings, get_settings, reset_settings
from newsletter.db import session_scope
from newsletter.web import create_app
from subscribers import background, membership, store
from subscribers.models import ConsentSource
from tests.conftest import ROOT
from tests.smtp import SmtpServer
from tests.subscribers.conftest import Lists, csrf_from, links_in, path_of

SMTP_DELAY = 0.25
TRIES = 7


def _slow_relay(address: str, elapsed: float) -> None:
    time.sleep(SMTP_DELAY)
    return None


@pytest.fixture
def slow_smtp(db: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpServer]:
    with SmtpServer(rules=[_slow_relay]) as server:
        monkeypatch.setenv("NEWSLETTER_SMTP_URL", server.url)
        reset_settings()
        yield server
        background.drain(30)
    reset_settings()


@pytest.fixture
def client(db: Settings, slow_smtp: SmtpServer) -> FlaskClient:
    return create_app(get_settings(), {"TESTING": True, "SUBSCRIBE_RATE_LIMIT": 1000}).test_client()


def _known_readers(lists: Lists) -> list[str]:
    # One reader per try: an address is sent at most one such email in a while, so asking twice
    # for the same one would send nothing the second time.
    addresses = [f"known{n}@example.org" for n in range(TRIES)]
    with session_scope() as session:
        news = store.lists_by_id(session, [lists.news])[0]
        for address in addresses:
            person, _ = store.get_or_create_subscriber(session, address, None)
            membership.add_confirmed(session, person, news, source=ConsentSource.IMPORT, wording="Paper form")
    return addresses


def _timed_post(client: FlaskClient, token: str, email: str) -> float:
    started = time.perf_counter()
    answer = client.post("/preferences", data={"email": email, "csrf_token": token})
    took = time.perf_counter() - started
    assert answer.status_code == 200 and b"Check your email" in answer.data
    return took


def test_the_answer_takes_the_same_time_for_known_and_unknown_addresses(
        client: FlaskClient, lists: Lists, slow_smtp: SmtpServer, db: Settings) -> None:
    known = _known_readers(lists)
    token = csrf_from(client, "/preferences")
    _timed_post(client, token, "warm-up@example.net")  # first request pays for imports and connections
    known_times, unknown_times = [], []
    for n in range(TRIES):
        known_times.append(_timed_post(client, token, known[n]))
        unknown_times.append(_timed_post(client, token, f"stranger{n}@example.net"))
    known_median, unknown_median = statistics.median(known_times), statistics.median(unknown_times)
    print(f"median answer: known {known_median * 1000:.1f} ms, unknown {unknown_median * 1000:.1f} ms")
    # Generous: far below the relay's delay, so only mail sent in the request could break it.
    assert abs(known_median - unknown_median) < SMTP_DELAY / 5, (known_times, unknown_times)
    assert known_median < SMTP_DELAY, known_times

    # The links still arrive, one for each known address and nothing for the strangers.
    assert background.drain(30)
    assert slow_smtp.handler.wait_for(TRIES, timeout=30)
    assert sorted(r for m in slow_smtp.messages for r in m.recipients) == sorted(known)
    fresh = path_of(links_in(slow_smtp.messages[0])[0], db)
    assert client.get(fresh).status_code == 200


@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
def test_with_redis_a_celery_worker_looks_the_address_up_and_sends(
        db: Settings, lists: Lists, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With NEWSLETTER_REDIS_URL the request becomes a Celery task; a real worker does the rest."""
    from tests.delivery.test_workers import Processes, Redis, _env

    known = _known_readers(lists)[0]
    redis = Redis(tmp_path)
    redis.start()
    processes = None
    try:
        with SmtpServer() as smtp:
            env = _env(db, redis.url, smtp.url)
            # A process of its own, as the web app is: Celery reads its broker from the settings at start.
            hand_over = ("import sys; from newsletter.config import get_settings; "
                         "from newsletter.delivery.subscriber_mail import outgoing; "
                         "from subscribers.background import request_preferences_link_later as later; "
                         "[later(get_settings(), a, outgoing(get_settings())) for a in sys.argv[1:]]")
            started = time.perf_counter()
            subprocess.run([sys.executable, "-c", hand_over, known, "stranger@example.net"], cwd=ROOT, env=env,
                           check=True, timeout=60)
            print(f"handing two requests to Redis took {time.perf_counter() - started:.2f} s with start-up")
            assert smtp.messages == []  # nothing was sent by the process that took the request
            processes = Processes(env, tmp_path)
            processes.worker("mail")
            assert smtp.handler.wait_for(1, timeout=60), (tmp_path / "mail.log").read_text()
            time.sleep(1.0)  # a stranger's request, had it sent anything, would have arrived by now
            assert [m.recipients for m in smtp.messages] == [[known]]
            assert "/p/" in links_in(smtp.messages[0])[0]
    finally:
        if processes is not None:
            processes.stop_all()
        redis.stop()
