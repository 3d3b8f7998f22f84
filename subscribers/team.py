"""What the team does to one subscriber by hand (`newsletter subscribers add|remove`).

The team may add someone only with the consent they gave stated, or else by sending them the same
confirmation email the form sends. It may never add back someone who left, bounced, complained or
was erased: those people come back only through the form, by their own action.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from newsletter.config import Settings
from subscribers import links, membership, store
from subscribers.emails import normalise_email
from subscribers.errors import NotAllowed
from subscribers.models import ConsentSource, MailingList, Subscriber, SubscriberStatus, SubscriptionStatus
from subscribers.notify import Notice, NoticeKind
from subscribers.signup import DEFAULT_PURGE_DAYS

ADDED_UNCONFIRMED_WORDING = "Added by the team; a confirmation email was sent and nothing is mailed until confirmed."

_SUPPRESSED = {
    "erased": "asked for their details to be erased",
    "hard_bounce": "is on the suppression list because email to it bounced",
    "complaint": "reported our email as spam",
    "manual": "is on the suppression list",
}


def add_subscriber(
    session: Session,
    settings: Settings,
    email: str,
    lists: Sequence[MailingList],
    *,
    name: str | None = None,
    consent: str | None = None,
) -> tuple[Subscriber, Notice | None]:
    normalised = normalise_email(email)
    existing = store.find_subscriber(session, normalised)
    suppression = store.find_suppression(session, existing.email_hash if existing else _hash(normalised))
    if suppression is not None:
        raise NotAllowed(
            f"{normalised} {_SUPPRESSED[suppression.reason.value]}, so the team cannot add it; "
            "they can sign up again themselves using the subscribe form"
        )
    if existing is not None and existing.status is not SubscriberStatus.ACTIVE:
        raise NotAllowed(
            f"{normalised} is {existing.status.value}, so the team cannot add it back; "
            "they can sign up again themselves using the subscribe form"
        )
    if existing is not None:
        for lst in lists:
            row = store.subscription(session, existing.id, lst.id)
            if row is not None and row.status is SubscriptionStatus.UNSUBSCRIBED:
                raise NotAllowed(
                    f"{normalised} unsubscribed from {lst.name!r}, so the team cannot add it back; "
                    "they can sign up again themselves using the subscribe form"
                )
    subscriber, _ = store.get_or_create_subscriber(session, normalised, name)
    if name and store.clean_name(name) != subscriber.name:
        subscriber.name = store.clean_name(name)
    pending: list[MailingList] = []
    for lst in lists:
        if consent:
            membership.add_confirmed(session, subscriber, lst, source=ConsentSource.ADMIN, wording=consent.strip())
        elif membership.add_unconfirmed(
            session, subscriber, lst, source=ConsentSource.ADMIN, wording=ADDED_UNCONFIRMED_WORDING
        ) is not None:
            pending.append(lst)
    session.flush()
    if not pending:
        return subscriber, None
    notice = Notice(
        NoticeKind.CONFIRM, subscriber.email, links.confirm_url(settings, subscriber, [lst.id for lst in pending]),
        name=subscriber.name, list_names=[lst.name for lst in pending], keep_days=DEFAULT_PURGE_DAYS,
    )
    return subscriber, notice


def remove_subscriber(session: Session, email: str, lists: Sequence[MailingList] | None) -> list[int]:
    """Unsubscribe (not erase) from the given lists, or from everything when `lists` is None."""
    subscriber = store.get_subscriber(session, email)
    wording = "Removed by the team at the person's request."
    if lists is None:
        return membership.leave_everything(session, subscriber, source=ConsentSource.ADMIN, wording=wording)
    return membership.leave(session, subscriber, [lst.id for lst in lists], source=ConsentSource.ADMIN,
                            wording=wording)


def _hash(normalised: str) -> str:
    from subscribers.emails import email_hash

    return email_hash(normalised)
