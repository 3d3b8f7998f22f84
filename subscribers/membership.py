"""Joining, confirming and leaving lists: every change of a subscription, each with its consent log line.

Whether a change is *allowed* (may the team re-add someone who left? does this list need a
confirmation email?) is decided by the caller: the form, the import, the CLI, the preference
centre. This module only makes the change and writes the evidence, so no path can change a
subscription without a log line.

One line per event, however many requests carry it: each function first takes the person's lock
(store.lock_subscriber), then writes conditionally ("confirmed unless it already is", "unsubscribed
unless it already is"), and writes a consent line only for the rows that write changed. A double
click, or the one-click POST a mail provider repeats, therefore changes the row once and logs once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session

from newsletter.db import utcnow
from subscribers import store
from subscribers.bulk_sql import insert_ignoring_conflicts
from subscribers.models import (
    ConsentAction,
    ConsentEntry,
    ConsentSource,
    MailingList,
    Subscriber,
    SubscriberStatus,
    Subscription,
    SubscriptionStatus,
)

# A second request to join the same list from the same place this soon (a double click, a reload, the
# back button) is the same request: it gets no second consent line. The form's email throttle is as long.
SAME_REQUEST_WINDOW = timedelta(minutes=2)


def _insert(session: Session, subscriber_id: int, list_id: int, status: SubscriptionStatus) -> bool:
    """Create the subscription unless a row is already there; True if this call created it."""
    now = utcnow()
    created = session.scalar(
        insert_ignoring_conflicts(session, Subscription).values(
            subscriber_id=subscriber_id, list_id=list_id, status=status, created_at=now, updated_at=now,
            confirmed_at=now if status is SubscriptionStatus.CONFIRMED else None,
        ).returning(Subscription.list_id)
    )
    return created is not None


def _requested_just_now(session: Session, subscriber_id: int, list_id: int, source: ConsentSource) -> bool:
    return bool(session.scalar(select(exists().where(
        ConsentEntry.subscriber_id == subscriber_id, ConsentEntry.list_id == list_id,
        ConsentEntry.action == ConsentAction.SUBSCRIBE, ConsentEntry.source == source,
        ConsentEntry.at >= utcnow() - SAME_REQUEST_WINDOW,
    ))))


def add_unconfirmed(
    session: Session, subscriber: Subscriber, mailing_list: MailingList, *, source: ConsentSource, wording: str,
    detail: dict[str, Any] | None = None,
) -> Subscription | None:
    """Record a request to join that still needs confirming. A list they left stays left until they confirm.

    Returns the subscription, or None when it was already confirmed (nothing to do).
    """
    store.lock_subscriber(session, subscriber)
    if not _insert(session, subscriber.id, mailing_list.id, SubscriptionStatus.UNCONFIRMED):
        row = store.subscription(session, subscriber.id, mailing_list.id)
        if row is None or row.status is SubscriptionStatus.CONFIRMED:
            return None
        if _requested_just_now(session, subscriber.id, mailing_list.id, source):
            return row
    store.log_consent(
        session, ConsentAction.SUBSCRIBE, source, subscriber_id=subscriber.id, list_id=mailing_list.id,
        wording=wording, detail={"confirmed": False, **(detail or {})},
    )
    return store.subscription(session, subscriber.id, mailing_list.id)


def add_confirmed(
    session: Session, subscriber: Subscriber, mailing_list: MailingList, *, source: ConsentSource, wording: str,
    detail: dict[str, Any] | None = None, own_action: bool = False,
) -> bool:
    """Put a subscriber on a list with consent given; True if this call changed anything.

    `own_action` is the person's own click (the confirmation link, the preference centre): it may bring
    back a list they left, and makes them mailable again. Anyone else (the team, the form for a list
    without double opt-in) only adds an active, unsuppressed person to a list they have not left, judged
    under the person's lock, so someone who leaves at that moment stays left.
    """
    if not store.lock_subscriber(session, subscriber):
        return False
    if not own_action and (subscriber.status is not SubscriberStatus.ACTIVE
                           or store.find_suppression(session, subscriber.email_hash) is not None):
        return False
    changed = _insert(session, subscriber.id, mailing_list.id, SubscriptionStatus.CONFIRMED)
    if not changed:
        from_status = [SubscriptionStatus.UNCONFIRMED]
        if own_action:
            from_status.append(SubscriptionStatus.UNSUBSCRIBED)
        now = utcnow()
        changed = session.scalar(
            update(Subscription)
            .where(Subscription.subscriber_id == subscriber.id, Subscription.list_id == mailing_list.id,
                   Subscription.status.in_(from_status))
            .values(status=SubscriptionStatus.CONFIRMED, confirmed_at=now, unsubscribed_at=None, updated_at=now)
            .returning(Subscription.list_id).execution_options(synchronize_session="fetch")
        ) is not None
    if not changed:
        return False
    store.log_consent(
        session, ConsentAction.CONFIRM, source, subscriber_id=subscriber.id, list_id=mailing_list.id,
        wording=wording, detail=detail,
    )
    if own_action and subscriber.status is not SubscriberStatus.ACTIVE:
        # Joining a list again, with consent, is the person coming back: they are mailable again.
        subscriber.status = SubscriberStatus.ACTIVE
    return True


def leave(
    session: Session, subscriber: Subscriber, list_ids: Sequence[int] | None, *, source: ConsentSource,
    wording: str = "", detail: dict[str, Any] | None = None,
) -> list[int]:
    """Unsubscribe from the given lists (None: every list). Returns the ids that changed; idempotent."""
    if not store.lock_subscriber(session, subscriber):
        return []
    conditions = [Subscription.subscriber_id == subscriber.id, Subscription.status != SubscriptionStatus.UNSUBSCRIBED]
    if list_ids is not None:
        if not list_ids:
            return []
        conditions.append(Subscription.list_id.in_(set(list_ids)))
    now = utcnow()
    changed = sorted(session.scalars(
        update(Subscription).where(*conditions)
        .values(status=SubscriptionStatus.UNSUBSCRIBED, unsubscribed_at=now, updated_at=now)
        .returning(Subscription.list_id).execution_options(synchronize_session="fetch")
    ))
    for list_id in changed:
        store.log_consent(
            session, ConsentAction.UNSUBSCRIBE, source, subscriber_id=subscriber.id, list_id=list_id,
            wording=wording, detail=detail,
        )
    return changed


def leave_everything(session: Session, subscriber: Subscriber, *, source: ConsentSource, wording: str = "") -> list[int]:
    """Every list, and the subscriber marked as gone: no import or team member can add them back."""
    changed = leave(session, subscriber, None, source=source, wording=wording)
    went = session.scalar(
        update(Subscriber).where(Subscriber.id == subscriber.id, Subscriber.status == SubscriberStatus.ACTIVE)
        .values(status=SubscriberStatus.UNSUBSCRIBED).returning(Subscriber.id)
        .execution_options(synchronize_session="fetch")
    )
    if went is not None and not changed:
        # On no list any more, but still active until now: the one line that records the choice.
        store.log_consent(
            session, ConsentAction.UNSUBSCRIBE, source, subscriber_id=subscriber.id, wording=wording,
            detail={"everything": True},
        )
    return changed
