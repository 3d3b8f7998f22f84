"""The preference centre: what a reader sees and may change through their personal link.

The signed link from their own mailbox is the proof of who they are, so choices made here take
effect at once (no second confirmation email), and each is logged with the words on the page.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from subscribers import membership, store
from subscribers.models import ConsentAction, ConsentSource, MailingList, Subscriber, SubscriptionStatus

PREFERENCES_WORDING = (
    "Chosen on the \"Your email choices\" page, reached from the personal link in one of our emails."
)
LEAVE_EVERYTHING_WORDING = "Chose \"Stop all emails\" on the \"Your email choices\" page."


@dataclass(frozen=True)
class ListChoice:
    mailing_list: MailingList
    chosen: bool


def choices(session: Session, subscriber: Subscriber) -> list[ListChoice]:
    """Every public list, plus private lists they are on, with only confirmed ones ticked."""
    status = {row.list_id: row.status for row, _ in store.subscriptions_of(session, subscriber.id)}
    shown = [
        lst for lst in store.all_lists(session)
        if lst.public or status.get(lst.id) in (SubscriptionStatus.CONFIRMED, SubscriptionStatus.UNCONFIRMED)
    ]
    return [ListChoice(lst, status.get(lst.id) is SubscriptionStatus.CONFIRMED) for lst in shown]


@dataclass(frozen=True)
class SavedChoices:
    joined: list[str]
    left: list[str]
    name_changed: bool


def save(session: Session, subscriber: Subscriber, chosen_ids: Iterable[int], name: str | None) -> SavedChoices:
    """Apply the form. Ids of lists the page did not offer are ignored (a tampered form changes nothing)."""
    wanted = set(chosen_ids)
    joined: list[str] = []
    left: list[str] = []
    for choice in choices(session, subscriber):
        lst = choice.mailing_list
        if lst.id in wanted and not choice.chosen:
            membership.add_confirmed(
                session, subscriber, lst, source=ConsentSource.PREFERENCE_CENTRE,
                wording=f"{PREFERENCES_WORDING} List: {lst.name}. {lst.description}".strip(),
            )
            joined.append(lst.name)
        elif lst.id not in wanted:
            row = store.subscription(session, subscriber.id, lst.id)
            if row is not None and row.status is not SubscriptionStatus.UNSUBSCRIBED:
                membership.leave(session, subscriber, [lst.id], source=ConsentSource.PREFERENCE_CENTRE,
                                 wording=PREFERENCES_WORDING)
                left.append(lst.name)
    if joined:
        lifted = store.remove_suppression(session, subscriber.email_hash)
        if lifted is not None:
            store.log_consent(
                session, ConsentAction.PREFERENCES, ConsentSource.PREFERENCE_CENTRE, subscriber_id=subscriber.id,
                wording=PREFERENCES_WORDING, detail={"suppression_lifted": lifted.reason.value},
            )
    new_name = store.clean_name(name)
    name_changed = new_name != subscriber.name
    if name_changed:
        subscriber.name = new_name
        # The name itself is not logged: the log outlives erasure and must hold no personal data.
        store.log_consent(
            session, ConsentAction.PREFERENCES, ConsentSource.PREFERENCE_CENTRE, subscriber_id=subscriber.id,
            wording=PREFERENCES_WORDING, detail={"name": "changed" if new_name else "removed"},
        )
    return SavedChoices(joined, left, name_changed)


def leave_everything(session: Session, subscriber: Subscriber) -> list[int]:
    return membership.leave_everything(
        session, subscriber, source=ConsentSource.PREFERENCE_CENTRE, wording=LEAVE_EVERYTHING_WORDING
    )


def my_data(session: Session, subscriber: Subscriber) -> dict[str, Any]:
    """Everything we hold about this person (UK GDPR article 15 and 20), as plain JSON."""

    def when(value: Any) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "about": "The details the Local Offer Team's newsletter service holds about you.",
        "email": subscriber.email,
        "name": subscriber.name,
        "status": subscriber.status.value,
        "attributes": subscriber.attributes or {},
        "created_at": when(subscriber.created_at),
        "updated_at": when(subscriber.updated_at),
        "subscriptions": [
            {
                "list": lst.name,
                "list_slug": lst.slug,
                "status": row.status.value,
                "since": when(row.created_at),
                "confirmed_at": when(row.confirmed_at),
                "unsubscribed_at": when(row.unsubscribed_at),
            }
            for row, lst in store.subscriptions_of(session, subscriber.id)
        ],
        "consent_log": [
            {
                "at": when(entry.at),
                "action": entry.action.value,
                "source": entry.source.value,
                "list": lst.name if lst else None,
                "wording": entry.wording,
                "detail": entry.detail or {},
            }
            for entry, lst in store.consent_history(session, subscriber.id)
        ],
    }
