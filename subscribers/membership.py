"""Joining, confirming and leaving lists: every change of a subscription, each with its consent log line.

Whether a change is *allowed* (may the team re-add someone who left? does this list need a
confirmation email?) is decided by the caller: the form, the import, the CLI, the preference
centre. This module only makes the change and writes the evidence, so no path can change a
subscription without a log line.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from newsletter.db import utcnow
from subscribers import store
from subscribers.models import (
    ConsentAction,
    ConsentSource,
    MailingList,
    Subscriber,
    SubscriberStatus,
    Subscription,
    SubscriptionStatus,
)


def add_unconfirmed(
    session: Session, subscriber: Subscriber, mailing_list: MailingList, *, source: ConsentSource, wording: str,
    detail: dict[str, Any] | None = None,
) -> Subscription | None:
    """Record a request to join that still needs confirming. A list they left stays left until they confirm.

    Returns the subscription, or None when it was already confirmed (nothing to do).
    """
    row = store.subscription(session, subscriber.id, mailing_list.id)
    if row is not None and row.status is SubscriptionStatus.CONFIRMED:
        return None
    if row is None:
        row = Subscription(subscriber_id=subscriber.id, list_id=mailing_list.id, status=SubscriptionStatus.UNCONFIRMED)
        session.add(row)
    store.log_consent(
        session, ConsentAction.SUBSCRIBE, source, subscriber_id=subscriber.id, list_id=mailing_list.id,
        wording=wording, detail={"confirmed": False, **(detail or {})},
    )
    return row


def add_confirmed(
    session: Session, subscriber: Subscriber, mailing_list: MailingList, *, source: ConsentSource, wording: str,
    detail: dict[str, Any] | None = None,
) -> bool:
    """Put a subscriber on a list with consent given; True if anything changed."""
    row = store.subscription(session, subscriber.id, mailing_list.id)
    if row is not None and row.status is SubscriptionStatus.CONFIRMED:
        return False
    now = utcnow()
    if row is None:
        row = Subscription(subscriber_id=subscriber.id, list_id=mailing_list.id, created_at=now)
        session.add(row)
    row.status = SubscriptionStatus.CONFIRMED
    row.confirmed_at = now
    row.unsubscribed_at = None
    store.log_consent(
        session, ConsentAction.CONFIRM, source, subscriber_id=subscriber.id, list_id=mailing_list.id,
        wording=wording, detail=detail,
    )
    if subscriber.status is not SubscriberStatus.ACTIVE:
        # Joining a list again, with consent, is the person coming back: they are mailable again.
        subscriber.status = SubscriberStatus.ACTIVE
    return True


def leave(
    session: Session, subscriber: Subscriber, list_ids: Sequence[int] | None, *, source: ConsentSource,
    wording: str = "", detail: dict[str, Any] | None = None,
) -> list[int]:
    """Unsubscribe from the given lists (None: every list). Returns the ids that changed; idempotent."""
    changed: list[int] = []
    now = utcnow()
    wanted = None if list_ids is None else set(list_ids)
    for row, _list in store.subscriptions_of(session, subscriber.id):
        if wanted is not None and row.list_id not in wanted:
            continue
        if row.status is SubscriptionStatus.UNSUBSCRIBED:
            continue
        row.status = SubscriptionStatus.UNSUBSCRIBED
        row.unsubscribed_at = now
        changed.append(row.list_id)
        store.log_consent(
            session, ConsentAction.UNSUBSCRIBE, source, subscriber_id=subscriber.id, list_id=row.list_id,
            wording=wording, detail=detail,
        )
    return changed


def leave_everything(session: Session, subscriber: Subscriber, *, source: ConsentSource, wording: str = "") -> list[int]:
    """Every list, and the subscriber marked as gone: no import or team member can add them back."""
    changed = leave(session, subscriber, None, source=source, wording=wording)
    if subscriber.status is SubscriberStatus.ACTIVE:
        subscriber.status = SubscriberStatus.UNSUBSCRIBED
    if not changed:
        store.log_consent(
            session, ConsentAction.UNSUBSCRIBE, source, subscriber_id=subscriber.id, wording=wording,
            detail={"everything": True},
        )
    return changed
