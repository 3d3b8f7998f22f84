"""The sending engine's one window onto the subscribers package: who may get mail, their links,
and what a bounce does to them. Delivery code never queries subscriber tables itself: everything
here goes through subscribers/api.py.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.errors import NewsletterError
from subscribers import api


class UnknownList(NewsletterError):
    pass


@dataclass(frozen=True, slots=True)
class Contact:
    email: str
    name: str
    unsubscribe_url: str
    mailto_unsubscribe: str
    preferences_url: str


def list_ids_for(session: Session, slugs: Sequence[str]) -> list[int]:
    if not slugs:
        raise UnknownList("name at least one list to send to (--list SLUG)")
    found = api.list_ids_by_slug(session, slugs)
    missing = [slug for slug in slugs if slug not in found]
    if missing:
        raise UnknownList(f"no list called {', '.join(missing)}; `newsletter lists list` shows them")
    return sorted(set(found.values()))


def list_identity(session: Session, list_ids: Sequence[int]) -> tuple[str, str]:
    """The slug and name used for List-Id: the campaign's first list, stable across issues."""
    return api.first_list(session, list_ids) or ("newsletter", "Newsletter")


def sendable_subscriber_ids(session: Session, list_ids: Sequence[int]) -> Iterator[int]:
    for recipient in api.sendable_recipients(session, list_ids):
        yield recipient.subscriber_id


def count_sendable(session: Session, list_ids: Sequence[int]) -> int:
    """How many people a send to these lists would reach now: one count in the database."""
    return api.count_sendable(session, list_ids)


def contacts(session: Session, subscriber_ids: Sequence[int], list_ids: Sequence[int], settings: Settings) -> dict[int, Contact]:
    """Addresses and personal links of those in `subscriber_ids` who may still be mailed right now."""
    allowed = api.may_receive(session, subscriber_ids, list_ids)
    if not allowed:
        return {}
    people = api.subscribers_by_id(session, allowed)
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
    return api.may_receive(session, subscriber_ids, list_ids)


def hard_bounce(session: Session, email: str, reply: str) -> None:
    api.suppress(session, email, reason="hard_bounce", source="bounce")


def complaint(session: Session, email: str) -> None:
    api.suppress(session, email, reason="complaint", source="complaint")


def list_names(session: Session, list_ids: Sequence[int]) -> dict[int, str]:
    """{list id: name}, for pages and reports that name a campaign's lists."""
    return api.list_names(session, list_ids)


def email_of(session: Session, subscriber_id: int) -> str | None:
    """A subscriber's address, for matching a bounce to its reader (None once they are erased)."""
    return api.email_of(session, subscriber_id)


def all_lists(session: Session) -> list[api.MailingList]:
    """Every list, by name: what a send can be addressed to."""
    return api.all_lists(session)
