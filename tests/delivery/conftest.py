"""Shared set-up for sending tests: an approved issue, a list, confirmed readers, fast retry settings."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy import insert, select

from newsletter.config import Settings, get_settings, reset_settings
from newsletter.db import session_scope, utcnow
from newsletter.delivery.ratelimit import LocalLimiter, Rate
from newsletter.delivery.sender import work
from newsletter.delivery.transport import Transport
from newsletter.issues import service, store
from newsletter.issues.models import IssueStatus

from tests.conftest import EXAMPLE

SLUG = "co-production-week-2026"


@pytest.fixture
def fast(db: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Settings for sending tests: quick retries and leases, a generous rate."""
    for name, value in {
        "NEWSLETTER_SEND_RATE": "5000",
        "NEWSLETTER_SEND_BURST": "500",
        "NEWSLETTER_SEND_RETRY_BASE_SECONDS": "0.05",
        "NEWSLETTER_SEND_LEASE_SECONDS": "3",
        "NEWSLETTER_SEND_BATCH_SIZE": "100",
    }.items():
        monkeypatch.setenv(name, value)
    reset_settings()
    yield get_settings()
    reset_settings()


def approved_issue(settings: Settings) -> int:
    with session_scope() as session:
        issue, _ = service.import_issue(session, EXAMPLE, settings)
        store.move(issue, IssueStatus.IN_REVIEW)
        store.move(issue, IssueStatus.APPROVED)
        return issue.id


def make_list(slug: str = "send-news", name: str = "SEND newsletter") -> int:
    from subscribers.models import MailingList

    with session_scope() as session:
        mailing_list = MailingList(slug=slug, name=name, description="News for families", public=True,
                                   double_opt_in=True)
        session.add(mailing_list)
        session.flush()
        return mailing_list.id


def make_readers(list_id: int, count: int, prefix: str = "reader", start: int = 0) -> list[int]:
    """Confirmed readers on a list, inserted in bulk (the import path has its own tests)."""
    from subscribers.emails import email_hash
    from subscribers.links import new_token_key
    from subscribers.models import Subscriber, SubscriberStatus, Subscription, SubscriptionStatus

    now = utcnow()
    emails = [f"{prefix}{n}@example.org" for n in range(start, start + count)]
    with session_scope() as session:
        existing = dict(session.execute(select(Subscriber.email, Subscriber.id).where(Subscriber.email.in_(emails))).all())
        new = [e for e in emails if e not in existing]
        if new:
            session.execute(insert(Subscriber), [
                {"email": e, "email_hash": email_hash(e), "name": f"Reader {e.split('@')[0]}", "attributes": {},
                 "status": SubscriberStatus.ACTIVE, "token_key": new_token_key(), "created_at": now, "updated_at": now}
                for e in new
            ])
        ids = dict(session.execute(select(Subscriber.email, Subscriber.id).where(Subscriber.email.in_(emails))).all())
        session.execute(insert(Subscription), [
            {"subscriber_id": ids[e], "list_id": list_id, "status": SubscriptionStatus.CONFIRMED, "created_at": now,
             "confirmed_at": now, "updated_at": now}
            for e in emails
        ])
    return [ids[e] for e in emails]


def run_to_end(settings: Settings, campaign_id: int, transport: Transport, timeout: float = 90.0) -> None:
    """Drive the sending loop in this process until the campaign is finished (or fail the test)."""
    from newsletter.delivery.models import Campaign, CampaignState

    limiter = LocalLimiter(Rate(settings.send_rate, settings.send_rate_per_day,
                                settings.burst_for(settings.send_rate)))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        report = work(campaign_id, settings, transport, limiter, max_seconds=10)
        with session_scope() as session:
            state = session.get(Campaign, campaign_id).state
        if state is not CampaignState.RUNNING:
            return
        time.sleep(min(report.retry_after or 0.02, 0.5))
    pytest.fail(f"campaign {campaign_id} did not finish in {timeout}s")
