"""Data access for lists, subscribers, subscriptions, the consent log and suppressions.

The only module (with the bulk paths in csv_import.py, csv_export.py and api.py) that builds
queries: views, the CLI and the delivery engine call these functions, so every query on these
tables can be found and reviewed here.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from newsletter.db import utcnow
from subscribers.bulk_sql import insert_ignoring_conflicts, is_postgresql, take_sqlite_write_lock

from newsletter.headersafe import one_line_problem
from subscribers.emails import email_hash, normalise_email
from subscribers.errors import InvalidList, ListNotFound, ListSlugTaken, SubscriberNotFound
from subscribers.links import new_token_key
from subscribers.models import (
    ConsentAction,
    ConsentEntry,
    ConsentSource,
    MailingList,
    Subscriber,
    SubscriberStatus,
    Subscription,
    SubscriptionStatus,
    Suppression,
    SuppressionReason,
)

_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?$")
NAME_MAX = 200

# --- lists ------------------------------------------------------------------------------------


def create_list(
    session: Session,
    slug: str,
    name: str,
    *,
    description: str = "",
    public: bool = True,
    double_opt_in: bool = True,
) -> MailingList:
    if not _SLUG.match(slug):
        raise InvalidList(
            f"the slug {slug!r} cannot be used: use lower-case letters, digits and hyphens, such as short-breaks",
            field="slug",
        )
    if not name.strip():
        raise InvalidList("a list needs a name people will recognise, such as \"Short breaks and activities\"",
                          field="name")
    name = check_list_name(name)
    if session.scalar(select(MailingList.id).where(MailingList.slug == slug)) is not None:
        raise ListSlugTaken(slug)
    mailing_list = MailingList(
        slug=slug, name=name, description=description.strip(), public=public, double_opt_in=double_opt_in
    )
    session.add(mailing_list)
    session.flush()
    return mailing_list


def check_list_name(name: str) -> str:
    """The name as stored, or InvalidList: it is written into the List-Id header of every issue sent to the list."""
    stripped = name.strip()
    problem = one_line_problem(stripped)
    if problem:
        raise InvalidList(f"the name {problem}", field="name")
    if len(stripped) > NAME_MAX:
        raise InvalidList(f"the name must be {NAME_MAX} characters or fewer", field="name")
    return stripped


def get_list(session: Session, slug: str) -> MailingList:
    mailing_list = session.scalar(select(MailingList).where(MailingList.slug == slug))
    if mailing_list is None:
        raise ListNotFound(slug)
    return mailing_list


def get_lists(session: Session, slugs: Iterable[str]) -> list[MailingList]:
    return [get_list(session, slug) for slug in dict.fromkeys(slugs)]


def lists_by_id(session: Session, ids: Iterable[int]) -> list[MailingList]:
    wanted = set(ids)
    if not wanted:
        return []
    return list(session.scalars(select(MailingList).where(MailingList.id.in_(wanted)).order_by(MailingList.name)))


def all_lists(session: Session) -> list[MailingList]:
    return list(session.scalars(select(MailingList).order_by(MailingList.name)))


def public_lists(session: Session) -> list[MailingList]:
    return list(session.scalars(select(MailingList).where(MailingList.public.is_(True)).order_by(MailingList.name)))


def subscription_counts(session: Session) -> dict[int, dict[SubscriptionStatus, int]]:
    """{list id: {status: count}} for every list, zeros included."""
    counts: dict[int, dict[SubscriptionStatus, int]] = {
        list_id: {status: 0 for status in SubscriptionStatus} for list_id in session.scalars(select(MailingList.id))
    }
    query = select(Subscription.list_id, Subscription.status, func.count()).group_by(
        Subscription.list_id, Subscription.status
    )
    for list_id, status, count in session.execute(query):
        counts[list_id][status] = count
    return counts


def subscriber_status_counts(session: Session, list_id: int) -> dict[SubscriberStatus, int]:
    """Among the list's confirmed subscriptions, how many subscribers are active, bounced, complained..."""
    counts = {status: 0 for status in SubscriberStatus}
    query = (
        select(Subscriber.status, func.count())
        .join(Subscription, Subscription.subscriber_id == Subscriber.id)
        .where(Subscription.list_id == list_id, Subscription.status == SubscriptionStatus.CONFIRMED)
        .group_by(Subscriber.status)
    )
    for status, count in session.execute(query):
        counts[status] = count
    return counts


def subscriber_totals(session: Session) -> dict[str, int]:
    """Every subscriber by status, for the service's metrics: one GROUP BY, every status named."""
    counts = {status.value: 0 for status in SubscriberStatus}
    for status, count in session.execute(select(Subscriber.status, func.count()).group_by(Subscriber.status)):
        counts[SubscriberStatus(status).value] = count
    return counts


def consent_event_counts(session: Session, actions: Sequence[str]) -> dict[str, int]:
    """How many consent lines record each of `actions` (bounce, complaint...): counters for the metrics."""
    wanted = [ConsentAction(action) for action in actions]
    counts = {action.value: 0 for action in wanted}
    query = (select(ConsentEntry.action, func.count()).where(ConsentEntry.action.in_(wanted))
             .group_by(ConsentEntry.action))
    for action, count in session.execute(query):
        counts[ConsentAction(action).value] = count
    return counts


# --- subscribers ------------------------------------------------------------------------------


def find_subscriber(session: Session, email: str) -> Subscriber | None:
    """By address, in any case and spacing; None if it is not stored (or is not a valid address)."""
    from subscribers.errors import InvalidEmail

    try:
        normalised = normalise_email(email)
    except InvalidEmail:
        return None
    return session.scalar(select(Subscriber).where(Subscriber.email == normalised))


def get_subscriber(session: Session, email: str) -> Subscriber:
    subscriber = find_subscriber(session, email)
    if subscriber is None:
        raise SubscriberNotFound(email.strip())
    return subscriber


def subscriber_by_id(session: Session, subscriber_id: int) -> Subscriber | None:
    return session.get(Subscriber, subscriber_id)


SEARCH_LIMIT = 50


def search_subscribers(session: Session, text: str, limit: int = SEARCH_LIMIT) -> list[Subscriber]:
    """The person whose address is `text` once normalised, then those whose address starts with it.

    The prefix is compared with the stored (normalised, lower-case) form, so "Jo.B" finds
    jo.bloggs@example.org; `%` and `_` are matched literally. At most `limit` people, by address.
    """
    exact = find_subscriber(session, text)
    prefix = unicodedata.normalize("NFC", (text or "").strip()).lower()
    found = [exact] if exact is not None else []
    if prefix:
        query = (select(Subscriber).where(Subscriber.email.startswith(prefix, autoescape=True))
                 .order_by(Subscriber.email).limit(limit))
        found.extend(person for person in session.scalars(query) if exact is None or person.id != exact.id)
    return found[:limit]


def subscriber_by_token_key(session: Session, token_key: str) -> Subscriber | None:
    return session.scalar(select(Subscriber).where(Subscriber.token_key == token_key))


def subscriber_by_hash(session: Session, hashed: str) -> Subscriber | None:
    return session.scalar(select(Subscriber).where(Subscriber.email_hash == hashed))


def get_or_create_subscriber(session: Session, normalised: str, name: str | None = None) -> tuple[Subscriber, bool]:
    """The subscriber for an already-normalised address, created if new. Safe against a concurrent insert.

    Two requests for the same new address at once (a double-click on the form) both insert; the second
    waits for the first and inserts nothing, so exactly one of them reports `created`.
    """
    for _ in range(2):
        existing = session.scalar(select(Subscriber).where(Subscriber.email == normalised))
        if existing is not None:
            return existing, False
        now = utcnow()
        new_id = session.scalar(
            insert_ignoring_conflicts(session, Subscriber).values(
                email=normalised, email_hash=email_hash(normalised), name=clean_name(name),
                status=SubscriberStatus.ACTIVE, attributes={}, token_key=new_token_key(), created_at=now,
                updated_at=now,
            ).returning(Subscriber.id)
        )
        if new_id is not None:
            return session.get_one(Subscriber, new_id), True
    raise RuntimeError(f"could not store or find the subscriber for {normalised!r}")


def lock_subscriber(session: Session, subscriber: Subscriber) -> bool:
    """Hold this person until the transaction ends, and read them afresh; False if they are gone (erased).

    Every change to a person's status or subscriptions takes this first (membership.py, erasure.py, the
    preference centre, the form; the import does the same for a whole batch), so two changes to one person
    (a double click, an unsubscribe during an import, an erasure) happen one after the other and the second
    decides from what the first wrote. PostgreSQL: a row lock, FOR NO KEY UPDATE, which leaves other tables'
    foreign-key checks on the row free. SQLite: its single write lock (bulk_sql.take_sqlite_write_lock).
    """
    session.flush()
    take_sqlite_write_lock(session)
    query = select(Subscriber).where(Subscriber.id == subscriber.id).execution_options(populate_existing=True)
    found = session.scalar(query.with_for_update(key_share=True) if is_postgresql(session) else query)
    # Subscriptions read before the lock may be stale: read them again when next used.
    for held in list(session.identity_map.values()):
        if isinstance(held, Subscription) and held.subscriber_id == subscriber.id:
            session.expire(held)
    return found is not None


def set_name(session: Session, subscriber: Subscriber, name: str | None) -> bool:
    """Change the name if it differs from the stored one; True if this call changed it."""
    cleaned = clean_name(name)
    changed = session.scalar(
        update(Subscriber).where(Subscriber.id == subscriber.id, Subscriber.name.is_distinct_from(cleaned))
        .values(name=cleaned).returning(Subscriber.id).execution_options(synchronize_session="fetch")
    )
    return changed is not None


def clean_name(name: str | None) -> str | None:
    """A name as people type it: spaces tidied, control characters removed, None when empty."""
    if name is None:
        return None
    if not name.isprintable():
        name = "".join(ch if ch.isprintable() else " " for ch in name)
    cleaned = " ".join(name.split())
    return cleaned[:NAME_MAX] or None


def subscription(session: Session, subscriber_id: int, list_id: int) -> Subscription | None:
    return session.get(Subscription, (subscriber_id, list_id))


def subscriptions_of(session: Session, subscriber_id: int) -> list[tuple[Subscription, MailingList]]:
    query = (
        select(Subscription, MailingList)
        .join(MailingList, MailingList.id == Subscription.list_id)
        .where(Subscription.subscriber_id == subscriber_id)
        .order_by(MailingList.name)
    )
    return [(row[0], row[1]) for row in session.execute(query)]


def subscriptions_by_subscriber(
    session: Session, subscriber_ids: Sequence[int]
) -> dict[int, list[tuple[Subscription, MailingList]]]:
    """`subscriptions_of` for several people in one query: {subscriber id: [(subscription, list)]}."""
    found: dict[int, list[tuple[Subscription, MailingList]]] = {subscriber_id: [] for subscriber_id in subscriber_ids}
    if not found:
        return found
    query = (
        select(Subscription, MailingList)
        .join(MailingList, MailingList.id == Subscription.list_id)
        .where(Subscription.subscriber_id.in_(list(found)))
        .order_by(MailingList.name)
    )
    for row, mailing_list in session.execute(query):
        found[row.subscriber_id].append((row, mailing_list))
    return found


# --- consent log ------------------------------------------------------------------------------


def log_consent(
    session: Session,
    action: ConsentAction,
    source: ConsentSource,
    *,
    subscriber_id: int | None = None,
    list_id: int | None = None,
    wording: str = "",
    detail: dict[str, Any] | None = None,
    email_hash: str | None = None,
) -> ConsentEntry:
    """Append one line. Callers must never put the address or name in `detail`: erasure relies on that."""
    entry = ConsentEntry(
        action=action,
        source=source,
        subscriber_id=subscriber_id,
        list_id=list_id,
        wording=wording,
        detail=detail or {},
        email_hash=email_hash,
    )
    session.add(entry)
    return entry


def consent_history(session: Session, subscriber_id: int) -> list[tuple[ConsentEntry, MailingList | None]]:
    query = (
        select(ConsentEntry, MailingList)
        .outerjoin(MailingList, MailingList.id == ConsentEntry.list_id)
        .where(ConsentEntry.subscriber_id == subscriber_id)
        .order_by(ConsentEntry.at, ConsentEntry.id)
    )
    return [(row[0], row[1]) for row in session.execute(query)]


def consent_lines_for_hash(session: Session, hashed: str) -> list[ConsentEntry]:
    return list(session.scalars(select(ConsentEntry).where(ConsentEntry.email_hash == hashed)))


# --- suppressions -----------------------------------------------------------------------------


def find_suppression(session: Session, hashed: str) -> Suppression | None:
    return session.scalar(select(Suppression).where(Suppression.email_hash == hashed))


def suppressed_hashes(session: Session, hashes: Sequence[str]) -> dict[str, SuppressionReason]:
    if not hashes:
        return {}
    query = select(Suppression.email_hash, Suppression.reason).where(Suppression.email_hash.in_(set(hashes)))
    return {hashed: reason for hashed, reason in session.execute(query)}


def add_suppression(
    session: Session, hashed: str, reason: SuppressionReason, source: str, email: str | None
) -> Suppression:
    """Idempotent. An erasure overrides an earlier reason and forgets the address; nothing overrides an erasure."""
    session.execute(
        insert_ignoring_conflicts(session, Suppression).values(
            email_hash=hashed, reason=reason, source=source,
            email=None if reason is SuppressionReason.ERASED else email,
            created_at=utcnow(),
        )
    )
    if reason is SuppressionReason.ERASED:
        session.execute(
            update(Suppression).where(Suppression.email_hash == hashed, Suppression.reason != SuppressionReason.ERASED)
            .values(reason=reason, source=source).execution_options(synchronize_session=False)
        )
        session.execute(
            update(Suppression).where(Suppression.email_hash == hashed, Suppression.email.is_not(None))
            .values(email=None).execution_options(synchronize_session=False)
        )
    return session.scalars(
        select(Suppression).where(Suppression.email_hash == hashed).execution_options(populate_existing=True)
    ).one()


def remove_suppression(session: Session, hashed: str) -> SuppressionReason | None:
    """Lift the block on this address; the reason it was blocked, or None if it was not (or another request
    lifted it first: only one of two simultaneous confirmations logs the lifting)."""
    lifted = session.scalar(
        delete(Suppression).where(Suppression.email_hash == hashed).returning(Suppression.reason)
        .execution_options(synchronize_session="fetch")
    )
    return lifted


def all_suppressions(session: Session) -> list[Suppression]:
    return list(session.scalars(select(Suppression).order_by(Suppression.created_at)))
