"""Erasure ("erase me", `newsletter subscribers erase`) and the purge of requests nobody confirmed.

Erasing deletes the subscriber row, which takes their subscriptions with it (ON DELETE CASCADE)
and detaches their consent log lines (ON DELETE SET NULL), so what stays is anonymous. Two things
are kept on purpose, holding only the one-way hash of the address:
- a suppression entry, so an old spreadsheet cannot quietly bring them back;
- one consent log line recording that the erasure happened, which the council may need to show.
If they sign up again through the form and confirm, the suppression is lifted: that is new consent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from newsletter.db import utcnow
from subscribers import store
from subscribers.models import (
    ConsentAction,
    ConsentEntry,
    ConsentSource,
    Subscriber,
    SubscriberStatus,
    Subscription,
    SubscriptionStatus,
    SuppressionReason,
)

ERASE_WORDING = "Asked for their details to be erased."


def erase(session: Session, subscriber: Subscriber, source: ConsentSource) -> str:
    """Remove a person's data for good; returns the hash kept in the suppression list."""
    hashed = subscriber.email_hash
    store.add_suppression(session, hashed, SuppressionReason.ERASED, source.value, email=None)
    store.log_consent(
        session, ConsentAction.ERASE, source, email_hash=hashed, wording=ERASE_WORDING,
        detail={"subscriptions": len(subscriber.subscriptions)},
    )
    session.delete(subscriber)
    session.flush()
    # The database has set subscriber_id to NULL on their old log lines; drop our stale in-memory copies.
    for entry in [obj for obj in session.identity_map.values() if isinstance(obj, ConsentEntry)]:
        session.expunge(entry)
    return hashed


def erase_email(session: Session, email: str, source: ConsentSource = ConsentSource.ADMIN) -> str:
    return erase(session, store.get_subscriber(session, email), source)


@dataclass(frozen=True)
class PurgeResult:
    subscriptions: int
    subscribers: int


def purge_unconfirmed(session: Session, older_than: timedelta) -> PurgeResult:
    """Delete requests to join that were not confirmed in time, and people left with nothing.

    Only subscriptions that were never confirmed go; someone who confirmed and later left keeps an
    `unsubscribed` row, so an import cannot add them back. A subscriber is deleted only if no row at
    all remains for them and they have never confirmed anything.
    """
    cutoff = utcnow() - older_than
    stale = list(
        session.execute(
            select(Subscription.subscriber_id, Subscription.list_id).where(
                Subscription.status == SubscriptionStatus.UNCONFIRMED, Subscription.created_at < cutoff
            )
        )
    )
    for subscriber_id, list_id in stale:
        store.log_consent(
            session, ConsentAction.PURGE, ConsentSource.SYSTEM, subscriber_id=subscriber_id, list_id=list_id,
            wording=f"Not confirmed within {older_than.days} days; request deleted.",
        )
    session.flush()
    for start in range(0, len(stale), 500):
        chunk = stale[start:start + 500]
        for subscriber_id, list_id in chunk:
            session.execute(
                delete(Subscription).where(
                    Subscription.subscriber_id == subscriber_id,
                    Subscription.list_id == list_id,
                    Subscription.status == SubscriptionStatus.UNCONFIRMED,
                )
            )
    confirmed_ever = exists().where(
        ConsentEntry.subscriber_id == Subscriber.id, ConsentEntry.action == ConsentAction.CONFIRM
    )
    orphans = list(
        session.scalars(
            select(Subscriber.id).where(
                Subscriber.created_at < cutoff,
                Subscriber.status == SubscriberStatus.ACTIVE,
                ~exists().where(Subscription.subscriber_id == Subscriber.id),
                ~confirmed_ever,
            )
        )
    )
    for start in range(0, len(orphans), 500):
        session.execute(delete(Subscriber).where(Subscriber.id.in_(orphans[start:start + 500])))
    session.expire_all()
    return PurgeResult(len(stale), len(orphans))
