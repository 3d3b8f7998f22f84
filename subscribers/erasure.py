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

from sqlalchemy import delete, exists, func, select
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
    """Remove a person's data for good; returns the hash kept in the suppression list.

    The delete is conditional on the row still being there, and only the request that deleted it writes
    the suppression and the erasure line: pressing "Erase" twice, or the team and the person erasing at
    once, leaves one line.
    """
    hashed = subscriber.email_hash
    if store.lock_subscriber(session, subscriber):
        held = session.scalar(select(func.count()).where(Subscription.subscriber_id == subscriber.id))
        deleted = session.scalar(
            delete(Subscriber).where(Subscriber.id == subscriber.id).returning(Subscriber.id)
            .execution_options(synchronize_session=False)
        )
        if deleted is not None:
            store.add_suppression(session, hashed, SuppressionReason.ERASED, source.value, email=None)
            store.log_consent(session, ConsentAction.ERASE, source, email_hash=hashed, wording=ERASE_WORDING,
                              detail={"subscriptions": held})
            session.flush()
    # The database has deleted their subscriptions and set subscriber_id to NULL on their old log lines:
    # drop our stale in-memory copies.
    stale = [held for held in session.identity_map.values()
             if isinstance(held, ConsentEntry | Subscription) and held.subscriber_id == subscriber.id]
    for held in [*stale, subscriber]:
        if held in session:
            session.expunge(held)
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
    # Deleted first, logged for exactly the rows deleted: a request confirmed at this moment is not deleted,
    # so it must not get a "deleted" line either.
    stale = list(session.execute(
        delete(Subscription)
        .where(Subscription.status == SubscriptionStatus.UNCONFIRMED, Subscription.created_at < cutoff)
        .returning(Subscription.subscriber_id, Subscription.list_id).execution_options(synchronize_session=False)
    ))
    for subscriber_id, list_id in stale:
        store.log_consent(
            session, ConsentAction.PURGE, ConsentSource.SYSTEM, subscriber_id=subscriber_id, list_id=list_id,
            wording=f"Not confirmed within {older_than.days} days; request deleted.",
        )
    session.flush()
    confirmed_ever = exists().where(
        ConsentEntry.subscriber_id == Subscriber.id, ConsentEntry.action == ConsentAction.CONFIRM
    )
    orphan = (
        Subscriber.created_at < cutoff,
        Subscriber.status == SubscriberStatus.ACTIVE,
        ~exists().where(Subscription.subscriber_id == Subscriber.id),
        ~confirmed_ever,
    )
    orphans = list(session.scalars(select(Subscriber.id).where(*orphan)))
    deleted = 0
    for start in range(0, len(orphans), 500):
        # The conditions again: someone who signed up since the select above stays.
        deleted += len(session.execute(
            delete(Subscriber).where(Subscriber.id.in_(orphans[start:start + 500]), *orphan).returning(Subscriber.id)
            .execution_options(synchronize_session=False)
        ).all())
    session.expire_all()
    return PurgeResult(len(stale), deleted)
