"""Joining through the public form, double opt-in, and asking for a fresh preferences link.

Two rules shape everything here:
- The person at the form may not be the owner of the address. So the answer on the page is the
  same whatever the state of the address (new, waiting, already subscribed, erased, suppressed),
  nothing about an existing subscriber changes until the owner clicks the link in their mailbox,
  and a list they left stays left until then.
- The form must not become a way to flood a mailbox: one email per address per `EMAIL_INTERVAL`
  (the web layer also limits submissions per IP address).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.db import utcnow
from newsletter.tokens import BadToken
from subscribers import links, membership, store
from subscribers.emails import normalise_email
from subscribers.models import (
    ConsentAction,
    ConsentSource,
    MailingList,
    Subscriber,
    SubscriberStatus,
    SubscriptionStatus,
)
from subscribers.notify import Notice, NoticeKind

# What the form says, word for word; logged with each list's own description as the consent wording.
FORM_STATEMENT = (
    "We will email you the news you choose. We use your email address, and your name if you give it, "
    "only to send these emails. We do not share them. You can stop the emails or change your choices "
    "at any time using the link at the bottom of every email."
)
CONFIRM_WORDING = "Confirmed by following the link in the confirmation email (\"Yes, send me these emails\")."
EMAIL_INTERVAL = timedelta(minutes=2)
DEFAULT_PURGE_DAYS = 14


def list_wording(mailing_list: MailingList) -> str:
    description = f" {mailing_list.description}" if mailing_list.description else ""
    return f"{FORM_STATEMENT} List: {mailing_list.name}.{description}"


def _may_email(subscriber: Subscriber, now: datetime) -> bool:
    last = subscriber.last_emailed_at
    return last is None or now - last >= EMAIL_INTERVAL


def request_subscription(
    session: Session,
    settings: Settings,
    email: str,
    name: str | None,
    lists: Sequence[MailingList],
    *,
    keep_days: int = DEFAULT_PURGE_DAYS,
) -> Notice | None:
    """Handle a valid form submission; returns the email to send after commit, if any.

    Raises InvalidEmail for the form to show. `lists` must already be limited to public lists.
    """
    normalised = normalise_email(email)
    now = utcnow()
    subscriber, created = store.get_or_create_subscriber(session, normalised, name if name else None)
    if not store.lock_subscriber(session, subscriber):  # erased between the two statements: store them anew
        subscriber, created = store.get_or_create_subscriber(session, normalised, name if name else None)
        store.lock_subscriber(session, subscriber)
    # Decided under the person's lock: a double click's second request sees what the first one did.
    suppressed = store.find_suppression(session, subscriber.email_hash) is not None
    # A stranger could type anyone's address: for someone who left, bounced, complained or asked to be
    # erased, only the owner clicking a link may start mail again, whatever the list's own setting.
    must_confirm_all = suppressed or subscriber.status is not SubscriberStatus.ACTIVE

    pending: list[MailingList] = []
    already: list[MailingList] = []
    for mailing_list in lists:
        row = store.subscription(session, subscriber.id, mailing_list.id)
        if row is not None and row.status is SubscriptionStatus.CONFIRMED:
            already.append(mailing_list)
            continue
        left_before = row is not None and row.status is SubscriptionStatus.UNSUBSCRIBED
        wording = list_wording(mailing_list)
        if mailing_list.double_opt_in or must_confirm_all or left_before:
            membership.add_unconfirmed(session, subscriber, mailing_list, source=ConsentSource.FORM, wording=wording)
            pending.append(mailing_list)
        else:
            membership.add_confirmed(
                session, subscriber, mailing_list, source=ConsentSource.FORM, wording=wording,
                detail={"double_opt_in": False},
            )
    session.flush()

    if not _may_email(subscriber, now):
        return None
    if pending:
        subscriber.last_emailed_at = now
        return Notice(
            NoticeKind.CONFIRM, subscriber.email,
            links.confirm_url(settings, subscriber, [lst.id for lst in pending]),
            name=subscriber.name, list_names=[lst.name for lst in pending], keep_days=keep_days,
        )
    if already and not created:
        subscriber.last_emailed_at = now
        return Notice(
            NoticeKind.ALREADY_SUBSCRIBED, subscriber.email, links.preferences_url(settings, subscriber),
            name=subscriber.name, list_names=[lst.name for lst in already],
        )
    return None


@dataclass(frozen=True)
class Confirmation:
    subscriber: Subscriber
    lists: list[MailingList]


def confirm_subscription(session: Session, settings: Settings, token: str) -> Confirmation:
    """The owner clicked the link: confirm the lists it names. Idempotent. BadToken for a bad or old link."""
    target = links.read_token(settings, links.CONFIRM, token, max_age=links.CONFIRM_MAX_AGE)
    subscriber = store.subscriber_by_token_key(session, target.token_key)
    if subscriber is None or not store.lock_subscriber(session, subscriber):
        raise BadToken("This link no longer works because the details it was for have been removed. "
                       "You can sign up again.")
    lists = store.lists_by_id(session, target.list_ids)
    for mailing_list in lists:
        membership.add_confirmed(session, subscriber, mailing_list, source=ConsentSource.FORM, wording=CONFIRM_WORDING,
                                 own_action=True)
    lifted = store.remove_suppression(session, subscriber.email_hash)
    if lifted is not None:
        # Clicking a link in the mailbox proves the mailbox works and is fresh consent: the old block goes.
        store.log_consent(
            session, ConsentAction.CONFIRM, ConsentSource.FORM, subscriber_id=subscriber.id,
            wording=CONFIRM_WORDING, detail={"suppression_lifted": lifted.value},
        )
    return Confirmation(subscriber, lists)


def request_preferences_link(session: Session, settings: Settings, email: str) -> Notice | None:
    """Someone asked for a fresh link. Only the owner's mailbox ever sees it; the page says the same either way."""
    subscriber = store.find_subscriber(session, email)
    now = utcnow()
    if subscriber is None or not _may_email(subscriber, now):
        return None
    if store.find_suppression(session, subscriber.email_hash) is not None:
        return None
    subscriber.last_emailed_at = now
    return Notice(NoticeKind.PREFERENCES_LINK, subscriber.email, links.preferences_url(settings, subscriber),
                  name=subscriber.name)
