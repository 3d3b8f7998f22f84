"""What the team checks is what families get: test copies, `newsletter render`'s message.eml and
readers' copies are made by one builder, and a campaign sends the message fixed when it was made.
"""

from __future__ import annotations

import email
import email.policy
import re
import threading
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select

from newsletter.config import Settings, get_settings, reset_settings
from newsletter.db import session_scope
from newsletter.delivery import campaigns
from newsletter.delivery.models import Campaign, CampaignState, Delivery
from newsletter.delivery.ratelimit import LocalLimiter, Rate
from newsletter.delivery.sender import _PREPARED, work
from newsletter.delivery.testsend import send_test_copies
from newsletter.delivery.transport import SmtpTransport
from newsletter.issues import store

from tests.delivery.conftest import SLUG, approved_issue, make_list, make_readers, run_to_end
from tests.smtp import SmtpServer

# Headers that name the person, the moment or the list, and so differ between any two copies.
PERSONAL = re.compile(r"/[up]/[A-Za-z0-9._~-]+|Reader reader\d+")
PERSONAL_HEADERS = {"To", "Date", "Message-ID", "List-Unsubscribe", "List-Id", "Feedback-ID", "Subject"}


def _parse(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[return-value]


def _bodies(message: EmailMessage, replace: dict[str, str]) -> list[str]:
    out = []
    for part in message.iter_parts():
        content = part.get_content()
        for old, new in replace.items():
            content = content.replace(old, new).replace(old.replace("&", "&amp;"), new)
        out.append(content)
    return out


def test_a_test_copy_is_a_readers_copy_but_for_subject_and_personal_links(db: Settings,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from subscribers import api
    from subscribers.models import Subscriber

    approved_issue(db)
    make_readers(make_list(), 1)
    with session_scope() as session:
        campaign_id = campaigns.create_campaign(session, store.get_issue(session, SLUG), ["send-news"], db).id
    with SmtpServer() as server:
        transport = SmtpTransport(server.url)
        run_to_end(db, campaign_id, transport)
        transport.close()
        monkeypatch.setenv("NEWSLETTER_SMTP_URL", server.url)
        reset_settings()
        with session_scope() as session:
            send_test_copies(session, SLUG, ["team@example.org"], get_settings(), sent_by="test")
    reader_raw = next(m.data for m in server.messages if m.recipients == ["reader0@example.org"])
    test_raw = next(m.data for m in server.messages if m.recipients == ["team@example.org"])
    reader, test = _parse(reader_raw), _parse(test_raw)
    assert [k for k in reader.keys()] == [k for k in test.keys()], "the same headers in the same order"
    for name in reader.keys():
        if name not in PERSONAL_HEADERS:
            assert reader[name] == test[name], name
    assert test["Subject"] == f"[Test] {reader['Subject']}"
    assert reader.get_boundary() == test.get_boundary(), "one builder: even the MIME boundary is the same"
    with session_scope() as session:
        person = session.scalar(select(Subscriber))
        list_ids = campaigns.list_ids_of(session, campaign_id)
        links = (api.unsubscribe_url(db, person, list_ids), api.preferences_url(db, person))
    inert = f"{db.base_url}/test-link"
    reader_bodies = _bodies(reader, {links[0]: inert, links[1]: inert, "Reader reader0": "there"})
    assert reader_bodies == _bodies(test, {})


def test_render_writes_the_message_a_reader_would_get(settings: Settings, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from newsletter.cli import main
    from tests.conftest import EXAMPLE

    result = CliRunner().invoke(main, ["render", str(EXAMPLE), "--out", str(tmp_path / "out")])
    assert (tmp_path / "out" / "message.eml").exists(), result.output
    sample = _parse((tmp_path / "out" / "message.eml").read_bytes())
    # Built by the bulk builder: the same headers a reader's copy carries, one-click unsubscribe included.
    assert sample["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert sample["Feedback-ID"] and sample["List-Id"]
    assert sample.get_boundary().startswith("=_nl_")


def test_a_theme_change_in_the_middle_of_a_send_changes_no_copy(db: Settings, monkeypatch: pytest.MonkeyPatch,
                                                                 tmp_path: Path) -> None:
    for name, value in {"SEND_RATE": "40", "SEND_BURST": "1", "SEND_LEASE_SECONDS": "5",
                        "SEND_BATCH_SIZE": "5"}.items():
        monkeypatch.setenv(f"NEWSLETTER_{name}", value)
    reset_settings()
    settings = get_settings()
    approved_issue(settings)
    make_readers(make_list(), 30)
    with session_scope() as session:
        campaign_id = campaigns.create_campaign(session, store.get_issue(session, SLUG), ["send-news"], settings).id
    other_theme = tmp_path / "theme.yaml"
    other_theme.write_text("organisation: A Different Council\nfooter_text: Sent from the new theme\n",
                           encoding="utf-8")
    limiter = LocalLimiter(Rate(40, burst=1))

    def running() -> bool:
        with session_scope() as session:
            return session.get(Campaign, campaign_id).state is CampaignState.RUNNING

    def worker() -> None:
        transport = SmtpTransport(server.url)
        while running():
            work(campaign_id, settings, transport, limiter, max_seconds=2)
        transport.close()

    with SmtpServer() as server:
        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        assert server.handler.wait_for(10, timeout=30)
        # A deploy with a new theme half-way: a fresh process would start with nothing cached.
        monkeypatch.setenv("NEWSLETTER_THEME_FILE", str(other_theme))
        reset_settings()
        _PREPARED.clear()
        for thread in threads:
            thread.join(60)
    assert len(server.messages) == 30
    with session_scope() as session:
        assert session.scalar(select(Delivery.id).where(Delivery.state != "sent")) is None
    bodies = set()
    for item in server.messages:
        body = _parse(item.data).get_body(("html",)).get_content()
        assert "A Different Council" not in body and "Sent from the new theme" not in body
        # Everything but each reader's own links and name is the same in every copy.
        bodies.add(PERSONAL.sub("", body))
    assert len(bodies) == 1, "every reader got the message as approved, before and after the new theme"
