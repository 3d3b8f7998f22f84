"""Everything `newsletter/` may use of the subscribers package, and nothing more.

Three windows, one module, so one file says what the rest of the service may touch:

- **Delivery** (newsletter/delivery/): who may receive an issue (`sendable_recipients`, then
  `may_receive` again at send time), the personal links each message carries, list names and slugs,
  and what a bounce, complaint or unsubscribe does. The engine never queries subscriber tables
  itself, so consent rules live in one place.
- **Public pages** (newsletter/web/subscriptions.py): sign up, confirm, unsubscribe, the preference
  centre, erasure, and the emails those send through the transport they are handed (`Outgoing`).
- **The team's pages** (newsletter/web/team_lists.py): lists, people, consent history, CSV import
  and export, and the reports of finished imports.

A recipient may be mailed when all of these hold, checked in SQL:
- a *confirmed* subscription to at least one of the issue's lists (unconfirmed rows never get an issue);
- the subscriber is `active` (not unsubscribed from everything, bounced or complained);
- the address's hash is not on the suppression list.

Link cost per call, best of 7 runs of 20,000 (see docs/performance.md): `unsubscribe_url` about 3-5 µs,
`preferences_url` about 2 µs, `mailto_unsubscribe_address` about 9 µs; itsdangerous alone takes about 45 µs.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from subscribers import membership, store
from subscribers.background import request_preferences_link_later, send_preferences_link_logged
from subscribers.bulk_sql import one_of
from subscribers.csv_export import export_list
from subscribers.csvsafe import protect as spreadsheet_safe
from subscribers.csv_import import ImportReport, import_csv
from subscribers.emails import email_hash, loose_normalise, normalise_email
from subscribers.erasure import erase, erase_email, purge_unconfirmed
from subscribers.errors import (
    ImportRefused,
    InvalidEmail,
    InvalidList,
    ListNotFound,
    ListSlugTaken,
    SubscribersError,
)
from subscribers.import_reports import PROBLEMS_KEPT, ImportReports
from subscribers.links import (
    CONFIRM,
    CONFIRM_MAX_AGE,
    PREFERENCES,
    PREFERENCES_MAX_AGE,
    HasTokenKey,
    mailto_unsubscribe_address,
    preferences_url,
    read_token,
    unsubscribe_url,
)
from subscribers.mailer import Mailer, Outgoing
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
from subscribers.notify import Notice, mail_notice
from subscribers.preferences import choices as preference_choices
from subscribers.preferences import leave_everything
from subscribers.preferences import my_data as personal_data
from subscribers.preferences import save as save_preferences
from subscribers.signup import FORM_STATEMENT, confirm_subscription, request_subscription
from subscribers.store import (
    NAME_MAX,
    SEARCH_LIMIT,
    all_lists,
    consent_event_counts,
    consent_history,
    create_list,
    find_suppression,
    get_list,
    get_lists,
    get_subscriber,
    lists_by_id,
    public_lists,
    search_subscribers,
    subscriber_by_id,
    subscriber_by_token_key,
    subscriber_status_counts,
    subscriber_totals,
    subscription_counts,
    subscriptions_by_subscriber,
    subscriptions_of,
)
from subscribers.team import add_subscriber, remove_subscriber
from subscribers.unsubscribe import process_maildir, target_of, unsubscribe_by_token

BATCH = 1000
# One query per this many ids: the delivery engine asks about a batch at a time, usually a few hundred.
_ID_CHUNK = 5000


@dataclass(frozen=True, slots=True)
class Recipient:
    """One person to mail. Pass it to `unsubscribe_url` and friends (it has `token_key`)."""

    subscriber_id: int
    email: str
    name: str | None
    token_key: str


def _mailable(list_ids: Sequence[int]):  # type: ignore[no-untyped-def]
    on_a_list = exists().where(
        Subscription.subscriber_id == Subscriber.id,
        Subscription.list_id.in_(list(list_ids)),
        Subscription.status == SubscriptionStatus.CONFIRMED,
    )
    suppressed = exists().where(Suppression.email_hash == Subscriber.email_hash)
    return (Subscriber.status == SubscriberStatus.ACTIVE, on_a_list, ~suppressed)


def sendable_recipients(session: Session, list_ids: Sequence[int], batch_size: int = BATCH) -> Iterator[Recipient]:
    """Everyone who may get an issue sent to `list_ids`, each once, in subscriber id order.

    Walks the subscribers' primary key in slices of `batch_size` ids and keeps those who may be mailed:
    memory stays flat at 100,000 rows, the caller may write (and commit) between slices on either
    backend, and each query costs the same however the planner's statistics stand. (A single "next
    1,000 mailable subscribers" query was planned as a join and sort of the whole list on PostgreSQL
    right after an import: 57 seconds for 100,000 people, against about 2 now.)
    """
    if not list_ids:
        return
    conditions = _mailable(list_ids)
    last = 0
    while True:
        ids = list(session.scalars(
            select(Subscriber.id).where(Subscriber.id > last).order_by(Subscriber.id).limit(batch_size)))
        if not ids:
            return
        rows = session.execute(
            select(Subscriber.id, Subscriber.email, Subscriber.name, Subscriber.token_key)
            .where(one_of(session, Subscriber.id, ids), *conditions)
            .order_by(Subscriber.id)
        ).all()
        for row in rows:
            yield Recipient(row[0], row[1], row[2], row[3])
        if len(ids) < batch_size:
            return
        last = ids[-1]


def count_sendable(session: Session, list_ids: Sequence[int]) -> int:
    """How many people `sendable_recipients` would give, counted in the database."""
    if not list_ids:
        return 0
    return session.scalar(select(func.count()).select_from(Subscriber).where(*_mailable(list_ids))) or 0


def may_receive(session: Session, subscriber_ids: Sequence[int], list_ids: Sequence[int]) -> set[int]:
    """The subset of `subscriber_ids` that may still be mailed for `list_ids` right now (one query per 5,000)."""
    if not subscriber_ids or not list_ids:
        return set()
    conditions = _mailable(list_ids)
    ids = list(dict.fromkeys(subscriber_ids))
    allowed: set[int] = set()
    for start in range(0, len(ids), _ID_CHUNK):
        chunk = ids[start:start + _ID_CHUNK]
        allowed.update(session.scalars(select(Subscriber.id).where(one_of(session, Subscriber.id, chunk), *conditions)))
    return allowed


def suppress(session: Session, email: str, reason: str, source: str) -> None:
    """Never mail this address again: a hard bounce ("hard_bounce") or a complaint ("complaint").

    Also marks the subscriber bounced or complained and logs it; a complaint also unsubscribes them
    from every list (a complaint is the strongest way of saying "stop"). `source` is a ConsentSource
    value, usually "bounce" or "complaint". Idempotent.
    """
    why = SuppressionReason(reason)
    where = ConsentSource(source)
    normalised = loose_normalise(email)
    hashed = email_hash(normalised)
    store.add_suppression(session, hashed, why, where.value, email=normalised)
    subscriber = store.subscriber_by_hash(session, hashed)
    if subscriber is None:
        return
    action = ConsentAction.COMPLAINT if why is SuppressionReason.COMPLAINT else ConsentAction.BOUNCE
    if why is SuppressionReason.COMPLAINT:
        membership.leave(session, subscriber, None, source=where, wording="Marked one of our emails as spam.")
        subscriber.status = SubscriberStatus.COMPLAINED
    elif why is SuppressionReason.HARD_BOUNCE and subscriber.status is SubscriberStatus.ACTIVE:
        subscriber.status = SubscriberStatus.BOUNCED
    store.log_consent(session, action, where, subscriber_id=subscriber.id, detail={"suppressed": why.value})


def record_unsubscribe(
    session: Session, subscriber_id: int, list_ids: Sequence[int] | None, source: str
) -> list[int]:
    """Unsubscribe from `list_ids` (None or empty: every list); returns the list ids that changed.

    `source` is a ConsentSource value: "one-click", "mailto", "bounce", "complaint", "admin"... Idempotent.
    """
    subscriber = session.get(Subscriber, subscriber_id)
    if subscriber is None:
        return []
    return membership.leave(session, subscriber, list(list_ids) if list_ids else None, source=ConsentSource(source))


def list_ids_by_slug(session: Session, slugs: Sequence[str]) -> dict[str, int]:
    """The ids of the lists with these slugs; a slug with no list is left out."""
    if not slugs:
        return {}
    return dict(session.execute(select(MailingList.slug, MailingList.id).where(MailingList.slug.in_(slugs))).all())


def first_list(session: Session, list_ids: Sequence[int]) -> tuple[str, str] | None:
    """The slug and name of the lowest-numbered of these lists, or None if none exists."""
    row = session.execute(
        select(MailingList.slug, MailingList.name).where(MailingList.id.in_(list_ids)).order_by(MailingList.id)
    ).first()
    return (row[0], row[1]) if row else None


def list_names(session: Session, list_ids: Sequence[int]) -> dict[int, str]:
    """{list id: name} for those of `list_ids` that exist, in name order."""
    if not list_ids:
        return {}
    return dict(session.execute(
        select(MailingList.id, MailingList.name).where(MailingList.id.in_(list(list_ids))).order_by(MailingList.name)
    ).all())


def subscribers_by_id(session: Session, subscriber_ids: Sequence[int] | set[int]) -> list[Subscriber]:
    """The subscribers with these ids (those erased meanwhile are left out)."""
    if not subscriber_ids:
        return []
    return list(session.scalars(select(Subscriber).where(Subscriber.id.in_(list(subscriber_ids)))))


def email_of(session: Session, subscriber_id: int) -> str | None:
    return session.scalar(select(Subscriber.email).where(Subscriber.id == subscriber_id))


# Leaving through something an email carried: its one-click link, the page that link opens, or its
# mailto address. The preference centre is left out: its link is not tied to one email.
_FROM_AN_EMAIL = (ConsentSource.ONE_CLICK, ConsentSource.UNSUBSCRIBE_PAGE, ConsentSource.MAILTO)


def left_from_email_links(session: Session, since: datetime) -> list[tuple[int, datetime]]:
    """(subscriber id, when) for each unsubscribe made from an email since `since`, from the consent log.

    For the campaign report's "unsubscribed because of this issue": the log already records each
    unsubscribe's source and moment, so telling which issue a person left from needs nothing new
    stored about them. People erased since are not in it (their lines no longer name them).
    """
    rows = session.execute(
        select(ConsentEntry.subscriber_id, ConsentEntry.at).where(
            ConsentEntry.action == ConsentAction.UNSUBSCRIBE, ConsentEntry.source.in_(_FROM_AN_EMAIL),
            ConsentEntry.subscriber_id.is_not(None), ConsentEntry.at >= since)
    ).all()
    return sorted({(int(subscriber_id), at) for subscriber_id, at in rows}, key=lambda row: row[1])


__all__ = [
    # delivery
    "Recipient",
    "count_sendable",
    "email_of",
    "first_list",
    "list_ids_by_slug",
    "list_names",
    "mailto_unsubscribe_address",
    "may_receive",
    "preferences_url",
    "record_unsubscribe",
    "sendable_recipients",
    "subscribers_by_id",
    "suppress",
    "unsubscribe_url",
    # public pages and the emails they send
    "CONFIRM",
    "CONFIRM_MAX_AGE",
    "FORM_STATEMENT",
    "NAME_MAX",
    "PREFERENCES",
    "PREFERENCES_MAX_AGE",
    "HasTokenKey",
    "Mailer",
    "Notice",
    "Outgoing",
    "confirm_subscription",
    "leave_everything",
    "lists_by_id",
    "mail_notice",
    "normalise_email",
    "personal_data",
    "preference_choices",
    "public_lists",
    "read_token",
    "request_preferences_link_later",
    "request_subscription",
    "save_preferences",
    "send_preferences_link_logged",
    "subscriber_by_token_key",
    "target_of",
    "unsubscribe_by_token",
    # the team's pages
    "PROBLEMS_KEPT",
    "SEARCH_LIMIT",
    "ImportReport",
    "ImportReports",
    "all_lists",
    "consent_history",
    "create_list",
    "erase",
    "export_list",
    "find_suppression",
    "get_list",
    "get_lists",
    "import_csv",
    "remove_subscriber",
    "search_subscribers",
    "subscriber_by_id",
    "subscriber_status_counts",
    "subscription_counts",
    "subscriptions_by_subscriber",
    "subscriptions_of",
    # the team's commands (newsletter/cli/subscribers.py), with the pages' functions above
    "add_subscriber",
    "erase_email",
    "get_subscriber",
    "process_maildir",
    "purge_unconfirmed",
    # the service's metrics (newsletter/metrics.py)
    "consent_event_counts",
    "subscriber_totals",
    # the campaign report (newsletter/counts/report.py)
    "left_from_email_links",
    "spreadsheet_safe",
    # rows, states and errors named in signatures and forms
    "ConsentSource",
    "MailingList",
    "Subscriber",
    "SubscriberStatus",
    "SubscriptionStatus",
    "ImportRefused",
    "InvalidEmail",
    "InvalidList",
    "ListNotFound",
    "ListSlugTaken",
    "SubscribersError",
]
