"""The preference centre: what a reader sees and may change through their personal link.

The signed link from their own mailbox is the proof of who they are, so choices made here take
effect at once (no second confirmation email), and each is logged with the words on the page.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
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
class ChangedSinceShown:
    """A list whose state changed after the page was shown, which the form left as it was shown: kept as it is now."""

    name: str
    now_chosen: bool


@dataclass(frozen=True)
class SavedChoices:
    joined: list[str]
    left: list[str]
    name_changed: bool
    changed_since_shown: list[ChangedSinceShown]


def save(
    session: Session, subscriber: Subscriber, chosen_ids: Iterable[int], name: str | None, *,
    shown: Mapping[int, bool], name_shown: str | None,
) -> SavedChoices:
    """Apply what the person changed on the form, relative to what the form showed them.

    `shown` is {list id: ticked?} as the page was rendered, `name_shown` the name in the box then. Only a
    box the person changed is a choice: a box still as it was shown changes nothing, even if the list's
    state changed since (an unsubscribe link used in another tab, say); those lists are returned in
    `changed_since_shown` for the page to say so. Ids of lists the page did not offer are ignored (a
    tampered form changes nothing). Decided under the person's lock, so a double POST changes things once.
    """
    if not store.lock_subscriber(session, subscriber):  # erased a moment ago: nothing left to change
        return SavedChoices([], [], False, [])
    wanted = set(chosen_ids)
    offered = {choice.mailing_list.id: choice for choice in choices(session, subscriber)}
    joined: list[str] = []
    left: list[str] = []
    changed_since: list[ChangedSinceShown] = []
    for list_id, was_chosen in shown.items():
        choice = offered.get(list_id)
        if choice is None:
            # No longer offered: a private list they have left since. Leaving it again changes nothing.
            row = store.subscription(session, subscriber.id, list_id)
            if was_chosen and list_id in wanted and row is not None:
                changed_since.extend(ChangedSinceShown(lst.name, False)
                                     for lst in store.lists_by_id(session, [list_id]))
            continue
        lst, now_chosen, chosen = choice.mailing_list, choice.chosen, list_id in wanted
        if chosen == was_chosen:
            if now_chosen != was_chosen:
                changed_since.append(ChangedSinceShown(lst.name, now_chosen))
            continue
        if chosen and not now_chosen:
            if membership.add_confirmed(
                session, subscriber, lst, source=ConsentSource.PREFERENCE_CENTRE, own_action=True,
                wording=f"{PREFERENCES_WORDING} List: {lst.name}. {lst.description}".strip(),
            ):
                joined.append(lst.name)
        elif not chosen and now_chosen:
            if membership.leave(session, subscriber, [lst.id], source=ConsentSource.PREFERENCE_CENTRE,
                                wording=PREFERENCES_WORDING):
                left.append(lst.name)
    if joined:
        lifted = store.remove_suppression(session, subscriber.email_hash)
        if lifted is not None:
            store.log_consent(
                session, ConsentAction.PREFERENCES, ConsentSource.PREFERENCE_CENTRE, subscriber_id=subscriber.id,
                wording=PREFERENCES_WORDING, detail={"suppression_lifted": lifted.value},
            )
    new_name = store.clean_name(name)
    name_changed = False
    if new_name != store.clean_name(name_shown) and store.set_name(session, subscriber, new_name):
        name_changed = True
        # The name itself is not logged: the log outlives erasure and must hold no personal data.
        store.log_consent(
            session, ConsentAction.PREFERENCES, ConsentSource.PREFERENCE_CENTRE, subscriber_id=subscriber.id,
            wording=PREFERENCES_WORDING, detail={"name": "changed" if new_name else "removed"},
        )
    return SavedChoices(joined, left, name_changed, changed_since)


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
