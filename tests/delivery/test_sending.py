"""Sending in one process against a real SMTP server on loopback, on SQLite and PostgreSQL.

The multi-process guarantees (two workers, SIGKILL, Redis restart) are in test_workers.py.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from newsletter.config import Settings
from newsletter.db import session_scope, utcnow
from newsletter.delivery import campaigns
from newsletter.delivery.models import Campaign, CampaignState, Delivery, DeliveryState
from newsletter.delivery.transport import SmtpTransport
from newsletter.issues import store
from newsletter.issues.models import IssueStatus

from tests.delivery.conftest import SLUG, approved_issue, make_list, make_readers, run_to_end
from tests.smtp import SmtpServer


def _create(settings: Settings, lists: tuple[str, ...] = ("send-news",), **kwargs: object) -> int:
    with session_scope() as session:
        return campaigns.create_campaign(session, store.get_issue(session, SLUG), lists, settings, **kwargs).id


def _states(campaign_id: int) -> dict[DeliveryState, int]:
    with session_scope() as session:
        return {k: v for k, v in campaigns.progress(session, campaign_id).counts.items() if v}


def test_every_reader_gets_one_message_with_their_own_links(fast: Settings) -> None:
    approved_issue(fast)
    news, breaks = make_list(), make_list("short-breaks", "Short breaks")
    make_readers(news, 30)
    make_readers(breaks, 10, start=25)  # five readers are on both lists
    campaign_id = _create(fast, ("send-news", "short-breaks"))
    with SmtpServer() as server:
        transport = SmtpTransport(server.url)
        run_to_end(fast, campaign_id, transport)
        transport.close()
    assert _states(campaign_id) == {DeliveryState.SENT: 35}
    received = server.handler.by_recipient()
    assert len(received) == 35 and set(received.values()) == {1}
    links = set()
    for item in server.messages:
        message = item.message
        assert item.envelope_from.startswith("bounces+")
        unsubscribe = str(message["List-Unsubscribe"]).split(">")[0].lstrip("<")
        html = message.get_body(("html",)).get_content()
        assert unsubscribe.replace("&", "&amp;") in html
        links.add(unsubscribe)
    assert len(links) == 35, "each reader has their own unsubscribe link"
    with session_scope() as session:
        campaign = session.get(Campaign, campaign_id)
        assert campaign.state is CampaignState.FINISHED
        assert campaign.issue.status is IssueStatus.SENT
        rows = session.scalars(select(Delivery).where(Delivery.campaign_id == campaign_id)).all()
        assert all(row.message_id.startswith("<nl.") and row.last_reply.startswith("250") for row in rows)


def test_temporary_failures_are_retried_until_delivered(fast: Settings) -> None:
    approved_issue(fast)
    make_readers(make_list(), 20)
    campaign_id = _create(fast)

    seen: dict[str, int] = {}

    def greylist(address: str, elapsed: float) -> str | None:
        # Like a greylisting server: the first two tries from us are refused, later ones accepted.
        seen[address] = seen.get(address, 0) + 1
        return "451 4.7.1 Greylisted, please try again" if seen[address] <= 2 else None

    with SmtpServer([greylist]) as server:
        transport = SmtpTransport(server.url)
        run_to_end(fast, campaign_id, transport)
        transport.close()
    assert _states(campaign_id) == {DeliveryState.SENT: 20}
    assert server.handler.refused["451"] >= 1
    assert set(server.handler.by_recipient().values()) == {1}
    with session_scope() as session:
        attempts = session.scalars(select(Delivery.attempts).where(Delivery.campaign_id == campaign_id)).all()
        assert set(attempts) == {3}


def test_permanent_refusals_bounce_and_suppress(fast: Settings) -> None:
    from subscribers.models import Suppression

    approved_issue(fast)
    make_readers(make_list(), 12)
    campaign_id = _create(fast)

    def refuse_some(address: str, elapsed: float) -> str | None:
        number = int(address.split("@")[0].removeprefix("reader"))
        return "550 5.1.1 No such mailbox" if number % 4 == 0 else None

    with SmtpServer([refuse_some]) as server:
        transport = SmtpTransport(server.url)
        run_to_end(fast, campaign_id, transport)
        transport.close()
    assert _states(campaign_id) == {DeliveryState.SENT: 9, DeliveryState.BOUNCED: 3}
    with session_scope() as session:
        suppressed = set(session.scalars(select(Suppression.email)))
        assert suppressed == {"reader0@example.org", "reader4@example.org", "reader8@example.org"}
        reply = session.scalar(select(Delivery.last_reply).where(Delivery.state == DeliveryState.BOUNCED))
        assert "5.1.1" in reply


def test_retries_give_up_and_record_the_reply(fast: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSLETTER_SEND_MAX_ATTEMPTS", "3")
    from newsletter.config import get_settings, reset_settings

    reset_settings()
    settings = get_settings()
    approved_issue(settings)
    make_readers(make_list(), 4)
    campaign_id = _create(settings)
    with SmtpServer([lambda address, elapsed: "452 4.2.2 Mailbox full" if address.startswith("reader1@") else None]) as server:
        transport = SmtpTransport(server.url)
        run_to_end(settings, campaign_id, transport)
        transport.close()
    assert _states(campaign_id) == {DeliveryState.SENT: 3, DeliveryState.FAILED: 1}
    with session_scope() as session:
        failed = session.scalars(select(Delivery).where(Delivery.state == DeliveryState.FAILED)).one()
        assert failed.attempts == 3 and "Mailbox full" in failed.last_reply
        assert campaigns.retry_failed(session, campaign_id) == 1
    with SmtpServer() as server:
        transport = SmtpTransport(server.url)
        run_to_end(settings, campaign_id, transport)
        transport.close()
    assert _states(campaign_id) == {DeliveryState.SENT: 4}
    assert list(server.handler.by_recipient()) == ["reader1@example.org"], "only the failed row is sent again"


def test_throttling_slows_down_without_burning_attempts(fast: Settings) -> None:
    approved_issue(fast)
    make_readers(make_list(), 10)
    campaign_id = _create(fast)
    with SmtpServer([lambda address, elapsed: "421 4.7.0 Too many messages, slow down" if elapsed < 0.8 else None]) as server:
        transport = SmtpTransport(server.url)
        run_to_end(fast, campaign_id, transport)
        transport.close()
    assert _states(campaign_id) == {DeliveryState.SENT: 10}
    with session_scope() as session:
        attempts = session.scalars(select(Delivery.attempts).where(Delivery.campaign_id == campaign_id)).all()
        assert max(attempts) == 1, "a throttling reply must not count as a failed attempt"


def test_readers_who_left_after_the_campaign_was_made_are_skipped(fast: Settings) -> None:
    from subscribers import api

    approved_issue(fast)
    ids = make_readers(make_list(), 5)
    campaign_id = _create(fast)
    with session_scope() as session:
        api.record_unsubscribe(session, ids[0], None, "one-click")
        api.suppress(session, "reader1@example.org", reason="complaint", source="complaint")
    with SmtpServer() as server:
        transport = SmtpTransport(server.url)
        run_to_end(fast, campaign_id, transport)
        transport.close()
    assert _states(campaign_id) == {DeliveryState.SENT: 3, DeliveryState.SKIPPED: 2}
    assert "reader0@example.org" not in server.handler.by_recipient()


def test_unconfirmed_readers_never_get_an_issue(fast: Settings) -> None:
    from subscribers.models import Subscription, SubscriptionStatus

    approved_issue(fast)
    list_id = make_list()
    ids = make_readers(list_id, 4)
    with session_scope() as session:
        row = session.get(Subscription, (ids[0], list_id))
        row.status = SubscriptionStatus.UNCONFIRMED
    campaign_id = _create(fast)
    assert _states(campaign_id) == {DeliveryState.QUEUED: 3}


def test_pause_resume_and_cancel(fast: Settings) -> None:
    approved_issue(fast)
    make_readers(make_list(), 40)
    campaign_id = _create(fast)
    with session_scope() as session:
        campaigns.pause(session, campaign_id)
    with SmtpServer() as server:
        transport = SmtpTransport(server.url)
        from newsletter.delivery.ratelimit import LocalLimiter, Rate
        from newsletter.delivery.sender import work

        report = work(campaign_id, fast, transport, LocalLimiter(Rate(1000)), max_seconds=5)
        assert report.sent == 0 and report.stopped_because == "paused"
        with session_scope() as session:
            campaigns.resume(session, campaign_id)
        run_to_end(fast, campaign_id, transport)
        transport.close()
    assert _states(campaign_id) == {DeliveryState.SENT: 40}
    assert set(server.handler.by_recipient().values()) == {1}

    # A second issue: cancel after it was made; nothing is sent.
    with session_scope() as session:
        issue = store.get_issue(session, SLUG)
        doc = store.document(issue).model_copy(update={"slug": "next-issue", "title": "Next issue"})
        other = store.create_issue(session, doc)
        store.move(other, IssueStatus.IN_REVIEW)
        store.move(other, IssueStatus.APPROVED)
        second = campaigns.create_campaign(session, other, ["send-news"], fast).id
    with session_scope() as session:
        campaigns.cancel(session, second)
    with SmtpServer() as server:
        transport = SmtpTransport(server.url)
        report = work(second, fast, transport, LocalLimiter(Rate(1000)), max_seconds=5)
        transport.close()
    assert report.sent == 0 and server.messages == []
    assert _states(second) == {DeliveryState.SKIPPED: 40}


def test_scheduled_send_waits_for_its_time(fast: Settings) -> None:
    approved_issue(fast)
    make_readers(make_list(), 3)
    future = _create(fast, send_at=utcnow() + timedelta(hours=2))
    with session_scope() as session:
        assert campaigns.start_due(session) == []
        assert session.get(Campaign, future).state is CampaignState.SCHEDULED
        assert store.get_issue(session, SLUG).status is IssueStatus.SCHEDULED
        # The scheduler was down when the time came: it starts the campaign when it is back.
        session.get(Campaign, future).send_at = utcnow() - timedelta(minutes=5)
    with session_scope() as session:
        assert campaigns.start_due(session) == [future]
        assert campaigns.start_due(session) == []
        assert store.get_issue(session, SLUG).status is IssueStatus.SENDING


def test_a_past_time_sends_at_once(fast: Settings) -> None:
    approved_issue(fast)
    make_readers(make_list(), 3)
    campaign_id = _create(fast, send_at=utcnow() - timedelta(days=1))
    with session_scope() as session:
        assert session.get(Campaign, campaign_id).state is CampaignState.RUNNING


def test_unapproved_or_failing_issues_are_refused(fast: Settings) -> None:
    from newsletter.issues import service

    from tests.conftest import EXAMPLE

    make_list()
    with session_scope() as session:
        service.import_issue(session, EXAMPLE, fast)
    with session_scope() as session, pytest.raises(campaigns.SendRefused, match="must be approved"):
        campaigns.create_campaign(session, store.get_issue(session, SLUG), ["send-news"], fast)
    with session_scope() as session:
        issue = store.get_issue(session, SLUG)
        doc = store.document(issue)
        blocks = list(doc.blocks) + [doc.blocks[0].model_copy(update={"markdown": "[click here](https://example.org)"})
                                     if doc.blocks[0].type == "text" else doc.blocks[0]]
        store.update_issue(session, issue, doc.model_copy(update={"blocks": blocks}))
        store.move(issue, IssueStatus.IN_REVIEW)
        store.move(issue, IssueStatus.APPROVED)
    with session_scope() as session, pytest.raises(campaigns.SendRefused, match="accessibility error"):
        campaigns.create_campaign(session, store.get_issue(session, SLUG), ["send-news"], fast)


def test_one_row_per_reader_is_enforced_by_the_database(fast: Settings) -> None:
    from sqlalchemy.exc import IntegrityError

    approved_issue(fast)
    ids = make_readers(make_list(), 1)
    campaign_id = _create(fast)
    with pytest.raises(IntegrityError), session_scope() as session:
        session.add(Delivery(campaign_id=campaign_id, subscriber_id=ids[0], state=DeliveryState.QUEUED))


def test_a_stalled_claim_cannot_overwrite_the_rows_new_owner(fast: Settings) -> None:
    from newsletter.delivery import ledger
    from newsletter.delivery.ledger import Outcome

    approved_issue(fast)
    make_readers(make_list(), 3)
    campaign_id = _create(fast)
    with session_scope() as session:
        first = ledger.claim_batch(session, campaign_id, 10, 0.001, "stalled")
    assert len(first) == 3
    with session_scope() as session:
        # The lease ran out: another worker takes the rows.
        session.execute(Delivery.__table__.update().values(lease_until=utcnow() - timedelta(seconds=1)))
    with session_scope() as session:
        second = ledger.claim_batch(session, campaign_id, 10, 60, "rescuer")
    assert [c.delivery_id for c in second] == [c.delivery_id for c in first]
    with session_scope() as session:
        assert ledger.renew(session, campaign_id, 60, "stalled") == set()
        assert ledger.held(session, [c.delivery_id for c in first], "stalled") == set()
        written = ledger.settle(session, [Outcome(c.delivery_id, DeliveryState.FAILED, 1, reply="late")
                                          for c in first], "stalled")
    assert written == 0, "the stalled worker learns that its results were not written"
    assert _states(campaign_id) == {DeliveryState.SENDING: 3}
    with session_scope() as session:
        assert ledger.renew(session, campaign_id, 60, "rescuer") == {c.delivery_id for c in second}
        assert ledger.settle(session, [Outcome(c.delivery_id, DeliveryState.SENT, 1, reply="250") for c in second],
                             "rescuer") == 3
    assert _states(campaign_id) == {DeliveryState.SENT: 3}


def test_a_claim_takes_at_most_its_batch(fast: Settings) -> None:
    from newsletter.delivery import ledger

    approved_issue(fast)
    make_readers(make_list(), 60)
    campaign_id = _create(fast)
    with session_scope() as session:
        first = ledger.claim_batch(session, campaign_id, 25, 60, "one")
    with session_scope() as session:
        second = ledger.claim_batch(session, campaign_id, 25, 60, "two")
    with session_scope() as session:
        third = ledger.claim_batch(session, campaign_id, 25, 60, "three")
    assert (len(first), len(second), len(third)) == (25, 25, 10)
    ids = [c.delivery_id for c in first + second + third]
    assert len(set(ids)) == 60
