"""Bounces and complaints arriving later, read from real DSN and ARF samples in tests/data/bounces."""

from __future__ import annotations

import mailbox
from pathlib import Path

import pytest
from sqlalchemy import select

from newsletter.config import Settings
from newsletter.db import session_scope
from newsletter.delivery import campaigns
from newsletter.delivery.bounces import process_mailbox, process_raw
from newsletter.delivery.mime import verp_address
from newsletter.delivery.models import Delivery, DeliveryState
from newsletter.issues import store

from tests.conftest import ROOT
from tests.delivery.conftest import SLUG, approved_issue, make_list, make_readers

SAMPLES = ROOT / "tests" / "data" / "bounces"


@pytest.fixture
def sent(fast: Settings) -> dict[str, tuple[int, int]]:
    """Five readers whose messages went out: email -> (campaign id, delivery id)."""
    approved_issue(fast)
    make_readers(make_list(), 5)
    with session_scope() as session:
        campaign = campaigns.create_campaign(session, store.get_issue(session, SLUG), ["send-news"], fast)
        rows = session.scalars(select(Delivery).where(Delivery.campaign_id == campaign.id)).all()
        for row in rows:
            row.state = DeliveryState.SENT
        from subscribers.models import Subscriber

        emails = {s.id: s.email for s in session.scalars(select(Subscriber))}
        return {emails[row.subscriber_id]: (campaign.id, row.id) for row in rows}


def _sample(name: str, settings: Settings, email: str, ids: tuple[int, int]) -> bytes:
    text = (SAMPLES / name).read_text()
    text = text.replace("{VERP}", verp_address(ids[1], "example.org", settings.secret_key))
    text = text.replace("{RECIPIENT}", email).replace("{CAMPAIGN}", str(ids[0])).replace("{DELIVERY}", str(ids[1]))
    return text.replace("\n", "\r\n").encode()


def _row(delivery_id: int) -> Delivery:
    with session_scope() as session:
        return session.get(Delivery, delivery_id)


def _suppressed() -> set[str]:
    from subscribers.models import Suppression

    with session_scope() as session:
        return set(session.scalars(select(Suppression.email)))


def test_hard_bounce_bounces_the_row_and_suppresses(fast: Settings, sent: dict[str, tuple[int, int]]) -> None:
    email, ids = "reader0@example.org", sent["reader0@example.org"]
    report = process_raw([_sample("postfix-hard.eml", fast, email, ids)], fast)
    assert (report.hard, report.soft, report.unmatched) == (1, 0, 0)
    row = _row(ids[1])
    assert row.state is DeliveryState.BOUNCED and row.reason == "dsn 5.1.1" and "User unknown" in row.last_reply
    assert _suppressed() == {email}
    again = process_raw([_sample("postfix-hard.eml", fast, email, ids)], fast)
    assert again.hard == 1 and _suppressed() == {email}, "processing twice changes nothing more"


def test_delayed_notice_is_only_recorded(fast: Settings, sent: dict[str, tuple[int, int]]) -> None:
    email, ids = "reader1@example.org", sent["reader1@example.org"]
    report = process_raw([_sample("exim-delayed.eml", fast, email, ids)], fast)
    assert (report.hard, report.soft) == (0, 1)
    row = _row(ids[1])
    assert row.state is DeliveryState.SENT and row.last_reply.startswith("4.2.2")
    assert _suppressed() == set()


def test_complaint_unsubscribes_and_suppresses(fast: Settings, sent: dict[str, tuple[int, int]]) -> None:
    from subscribers.models import Subscriber, SubscriberStatus, Subscription, SubscriptionStatus

    email, ids = "reader2@example.org", sent["reader2@example.org"]
    report = process_raw([_sample("arf-complaint.eml", fast, email, ids)], fast)
    assert report.complaints == 1
    assert email in _suppressed()
    with session_scope() as session:
        person = session.scalar(select(Subscriber).where(Subscriber.email == email))
        assert person.status is SubscriberStatus.COMPLAINED
        statuses = set(session.scalars(select(Subscription.status).where(Subscription.subscriber_id == person.id)))
        assert statuses == {SubscriptionStatus.UNSUBSCRIBED}


def test_plain_text_bounce_to_a_verp_address(fast: Settings, sent: dict[str, tuple[int, int]]) -> None:
    email, ids = "reader3@example.org", sent["reader3@example.org"]
    report = process_raw([_sample("bare-bounce.eml", fast, email, ids)], fast)
    assert report.hard == 1 and _row(ids[1]).state is DeliveryState.BOUNCED


def test_out_of_office_reply_is_not_a_bounce(fast: Settings, sent: dict[str, tuple[int, int]]) -> None:
    email, ids = "reader3@example.org", sent["reader3@example.org"]
    verp = verp_address(ids[1], "example.org", fast.secret_key)
    reply = (f"To: {verp}\r\nFrom: {email}\r\nSubject: Out of office\r\n\r\nI am away until Monday.\r\n").encode()
    report = process_raw([reply], fast)
    assert report.hard == 0 and report.ignored == 1
    assert _row(ids[1]).state is DeliveryState.SENT and _suppressed() == set()


def test_forged_bounce_changes_nothing(fast: Settings, sent: dict[str, tuple[int, int]]) -> None:
    email, ids = "reader4@example.org", sent["reader4@example.org"]
    report = process_raw([_sample("forged.eml", fast, email, ids)], fast)
    assert _row(ids[1]).state is DeliveryState.SENT
    assert email not in _suppressed()
    assert report.unmatched == 1 and report.hard == 0
    assert _suppressed() == set(), "a made-up report suppresses nobody"


def test_maildir_is_processed_and_emptied(fast: Settings, sent: dict[str, tuple[int, int]], tmp_path: Path) -> None:
    box = mailbox.Maildir(str(tmp_path / "bounces"), create=True)
    box.add(_sample("postfix-hard.eml", fast, "reader0@example.org", sent["reader0@example.org"]))
    box.add(_sample("exim-delayed.eml", fast, "reader1@example.org", sent["reader1@example.org"]))
    box.add(b"this is not an email at all")
    report = process_mailbox(tmp_path / "bounces", fast)
    assert (report.hard, report.soft) == (1, 1)
    assert len(mailbox.Maildir(str(tmp_path / "bounces"))) == 0


def test_mbox_file(fast: Settings, sent: dict[str, tuple[int, int]], tmp_path: Path) -> None:
    box = mailbox.mbox(str(tmp_path / "bounces.mbox"), create=True)
    box.add(_sample("postfix-hard.eml", fast, "reader0@example.org", sent["reader0@example.org"]))
    box.flush()
    assert process_mailbox(tmp_path / "bounces.mbox", fast).hard == 1


def test_http_endpoint_for_relays(fast: Settings, sent: dict[str, tuple[int, int]], monkeypatch: pytest.MonkeyPatch) -> None:
    from newsletter.config import get_settings, reset_settings
    from newsletter.web import create_app

    raw = _sample("postfix-hard.eml", fast, "reader0@example.org", sent["reader0@example.org"])
    assert create_app(fast).test_client().post("/bounces/inbound", data=raw).status_code == 404, "off by default"
    monkeypatch.setenv("NEWSLETTER_BOUNCE_TOKEN", "relay-secret-token-123")
    reset_settings()
    client = create_app(get_settings()).test_client()
    assert client.post("/bounces/inbound", data=raw).status_code == 401
    assert client.post("/bounces/inbound", data=raw, headers={"Authorization": "Bearer wrong"}).status_code == 401
    response = client.post("/bounces/inbound", data=raw, headers={"Authorization": "Bearer relay-secret-token-123"},
                           content_type="message/rfc822")
    assert response.status_code == 200 and response.json["hard"] == 1
    assert _row(sent["reader0@example.org"][1]).state is DeliveryState.BOUNCED
