"""The sending engine's one window onto the subscribers package: who may get mail, their links,
and what a bounce does to them. Delivery code never queries subscriber tables itself.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.config import Settings


class UnknownList(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Contact:
    email: str
    name: str
    unsubscribe_url: str
    mailto_unsubscribe: str
    preferences_url: str


def list_ids_for(session: Session, slugs: Sequence[str]) -> list[int]:
    from subscribers.models import MailingList

    if not slugs:
        raise UnknownList("name at least one list to send to (--list SLUG)")
    found = dict(session.execute(select(MailingList.slug, MailingList.id).where(MailingList.slug.in_(slugs))).all())
    missing = [slug for slug in slugs if slug not in found]
    if missing:
        raise UnknownList(f"no list called {', '.join(missing)}; `newsletter lists list` shows them")
    return sorted(set(found.values()))


def list_identity(session: Session, list_ids: Sequence[int]) -> tuple[str, str]:
    """The slug and name used for List-Id: the campaign's first list, stable across issues."""
    from subscribers.models import MailingList

    row = session.execute(
        select(MailingList.slug, MailingList.name).where(MailingList.id.in_(list_ids)).order_by(MailingList.id)
    ).first()
    return (row[0], row[1]) if row else ("newsletter", "Newsletter")


def sendable_subscriber_ids(session: Session, list_ids: Sequence[int]) -> Iterator[int]:
    from subscribers import api

    for recipient in api.sendable_recipients(session, list_ids):
        yield recipient.subscriber_id


def count_sendable(session: Session, list_ids: Sequence[int]) -> int:
    """How many people a send to these lists would reach now: one count in the database."""
    from subscribers import api

    return api.count_sendable(session, list_ids)


def contacts(session: Session, subscriber_ids: Sequence[int], list_ids: Sequence[int], settings: Settings) -> dict[int, Contact]:
    """Addresses and personal links of those in `subscriber_ids` who may still be mailed right now."""
    from subscribers import api
    from subscribers.models import Subscriber

    allowed = api.may_receive(session, subscriber_ids, list_ids)
    if not allowed:
        return {}
    people = session.scalars(select(Subscriber).where(Subscriber.id.in_(allowed)))
    return {
        person.id: Contact(
            email=person.email,
            name=person.name or "",
            unsubscribe_url=api.unsubscribe_url(settings, person, list_ids),
            mailto_unsubscribe=api.mailto_unsubscribe_address(settings, person, list_ids),
            preferences_url=api.preferences_url(settings, person),
        )
        for person in people
    }


def may_receive(session: Session, subscriber_ids: Sequence[int], list_ids: Sequence[int]) -> set[int]:
    """Which of `subscriber_ids` may still be mailed right now (asked again during a batch)."""
    from subscribers import api

    return api.may_receive(session, subscriber_ids, list_ids)


def hard_bounce(session: Session, email: str, reply: str) -> None:
    from subscribers import api

    api.suppress(session, email, reason="hard_bounce", source="bounce")


def complaint(session: Session, email: str) -> None:
    from subscribers import api

    api.suppress(session, email, reason="complaint", source="complaint")
