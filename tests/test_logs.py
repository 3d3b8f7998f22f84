"""Log lines: JSON with the ids that apply, and never a reader's address or token at INFO or above.

The leak test sends a campaign through the real path (a Celery worker and beat on a private Redis, a
real SMTP server that quotes addresses in its refusals, as Postfix does) with
NEWSLETTER_LOG_FORMAT=json, then uses the public pages (sign up with a refused confirmation email,
one-click unsubscribe, the preference centre), and scans every line written for every reader's
address and every token in their links.
"""

from __future__ import annotations

import json
import logging
import re
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from newsletter import logs
from newsletter.config import Settings, get_settings, reset_settings
from newsletter.db import session_scope
from newsletter.delivery import audience, campaigns
from newsletter.delivery.models import Campaign, CampaignState
from newsletter.issues import store
from newsletter.web import create_app

from tests.delivery.conftest import SLUG, approved_issue, make_list, make_readers
from tests.delivery.test_workers import Processes, Redis, _env
from tests.smtp import SmtpServer

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _record(message: str, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("newsletter.test", logging.INFO, __file__, 1, message, (), None)
    record.__dict__.update(extra)
    logs.ContextFilter().filter(record)
    return record


def test_a_json_line_carries_the_ids_in_context_and_nothing_passed_as_extra() -> None:
    with logs.log_context(campaign_id=7, request_id="req-12345678"):
        line = json.loads(logs.JsonFormatter().format(_record("sent %s", delivery_id=99, args_of_a_task=["jo@x"])))
    assert set(line) == {"time", "level", "logger", "message", "campaign_id", "delivery_id", "request_id"}
    assert (line["campaign_id"], line["delivery_id"], line["request_id"]) == (7, 99, "req-12345678")
    assert line["time"].endswith("+00:00") and line["level"] == "INFO" and line["logger"] == "newsletter.test"
    outside = json.loads(logs.JsonFormatter().format(_record("later")))
    assert "campaign_id" not in outside and "request_id" not in outside


def test_each_web_request_has_an_id_and_a_well_formed_incoming_one_is_kept(db: Settings,
                                                                         caplog: pytest.LogCaptureFixture) -> None:
    client = create_app(db).test_client()
    caplog.set_level(logging.INFO)
    kept = client.get("/subscribe", headers={"X-Request-ID": "lb-7f3a9c21-0001"})
    assert kept.headers["X-Request-ID"] == "lb-7f3a9c21-0001"
    for bad in ("short", "has space in it", "x" * 200, "evil\u2028line-0000"):
        made = client.get("/subscribe", headers={"X-Request-ID": bad}).headers["X-Request-ID"]
        assert made != bad and re.fullmatch(r"[0-9a-f]{32}", made)
    lines = [r for r in caplog.records if r.name == "newsletter.web.requests"]
    assert lines[0].request_id == "lb-7f3a9c21-0001" and lines[0].getMessage().startswith("GET /subscribe 200")


def _tokens(url: str) -> list[str]:
    return [part for part in url.rstrip("/").split("/")[-1:] if len(part) >= 10]


@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
def test_no_address_or_token_in_any_log_line_of_a_real_send(db: Settings, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    approved_issue(db)
    ids = make_readers(make_list(), 8)
    # Refusals that quote the address, as real servers do: a bounce, a retry, a refused confirmation.
    greylisted: list[str] = []
    rules = [
        lambda rcpt, _t: f"550 5.1.1 <{rcpt}>: Recipient address rejected" if rcpt == "reader1@example.org" else None,
        lambda rcpt, _t: f"451 4.2.0 <{rcpt}>: greylisted" if rcpt == "reader2@example.org"
        and not greylisted.append(rcpt) and len(greylisted) == 1 else None,  # its first try only
        lambda rcpt, _t: f"550 5.1.1 <{rcpt}>: no such user" if rcpt.startswith("newcomer") else None,
    ]
    redis = Redis(tmp_path)
    redis.start()
    processes = Processes({}, tmp_path)
    try:
        with SmtpServer(rules=rules) as smtp:
            env = _env(db, redis.url, smtp.url, NEWSLETTER_LOG_FORMAT="json")
            processes.env = env
            # --quiet: no start-up banner, which Celery prints to stdout rather than as log lines.
            processes._start("--quiet", "worker", "--concurrency=1", "--loglevel=INFO", "--hostname=logs@%h",
                             name="worker")
            processes._start("--quiet", "beat", "--loglevel=INFO", f"--schedule={tmp_path / 'beat-schedule'}",
                             name="beat")
            with session_scope() as session:
                campaign_id = campaigns.create_campaign(session, store.get_issue(session, SLUG), ["send-news"], db).id
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                with session_scope() as session:
                    if session.get(Campaign, campaign_id).state is CampaignState.FINISHED:
                        break
                time.sleep(0.25)
            else:
                pytest.fail("the campaign did not finish")
            assert smtp.handler.by_recipient()["reader2@example.org"] == 1
            with session_scope() as session:
                list_ids = campaigns.list_ids_of(session, campaign_id)
                people = audience.contacts(session, ids, list_ids, db)
            # The public pages, in this process, with the same settings.
            for name, value in {"NEWSLETTER_SMTP_URL": smtp.url, "NEWSLETTER_LOG_FORMAT": "json"}.items():
                monkeypatch.setenv(name, value)
            reset_settings()
            caplog.set_level(logging.DEBUG)
            client = create_app(get_settings()).test_client()
            form = client.get("/subscribe").get_data(as_text=True)
            list_value = re.search(r'name="lists" value="(\d+)"', form).group(1)  # type: ignore[union-attr]
            refused = client.post("/subscribe", data={"email": "newcomer@example.org", "lists": list_value,
                                                      "csrf_token": CSRF.search(form).group(1)})  # type: ignore[union-attr]
            assert refused.status_code == 503  # the confirmation email was refused
            reader3, reader4 = people[ids[3]], people[ids[4]]
            assert client.post(reader3.unsubscribe_url.removeprefix(db.base_url),
                               data={"List-Unsubscribe": "One-Click"}).status_code == 200
            assert client.get(reader4.preferences_url.removeprefix(db.base_url)).status_code == 200
    finally:
        processes.stop_all()
        redis.stop()
    worker_lines = [line for name in ("worker", "beat") for line in (tmp_path / f"{name}.log").read_text().splitlines()
                    if line.strip()]
    # Every log line is one JSON object; what else is there is Python's warning, printed before logging
    # starts, that the test runs the worker as root.
    parsed = [json.loads(line) for line in worker_lines if line.startswith("{")]
    assert len(parsed) >= 10
    assert all("superuser" in line or not line.startswith("-") for line in worker_lines if not line.startswith("{"))
    assert any(line.get("campaign_id") == campaign_id for line in parsed)
    assert any(line.get("delivery_id") and "bounced" in line["message"] for line in parsed)
    assert any(line.get("task") == "newsletter.work_on_campaign" for line in parsed)
    formatter = logs.JsonFormatter()
    # aiosmtpd's own lines ("mail.log") are the test's SMTP server talking, not the service.
    web_lines = [formatter.format(record) for record in caplog.records
                 if record.levelno >= logging.INFO and not record.name.startswith("mail.log")]
    assert any("could not send" in line for line in web_lines)
    secrets = ["newcomer@example.org", *(f"reader{n}@example.org" for n in range(8))]
    for person in people.values():
        secrets += _tokens(person.unsubscribe_url) + _tokens(person.preferences_url)
        secrets.append(person.mailto_unsubscribe.split("@")[0].split("+", 1)[1])
    assert len(secrets) > 9 + 3 * 6
    everything = "\n".join(worker_lines + web_lines).lower()
    leaked = [secret for secret in secrets if secret.lower() in everything]
    assert leaked == []
