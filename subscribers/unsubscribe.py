"""Leaving from an email: the one-click link (RFC 8058), its confirmation page, and the mailto address.

All three act at once, with no login and nothing to confirm by email: UK PECR and the mailbox
providers want leaving to be as easy as joining, and Gmail allows 48 hours at most (we allow none).
"""

from __future__ import annotations

import mailbox
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from email.utils import getaddresses
from pathlib import Path

from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.tokens import BadToken
from subscribers import links, membership, store
from subscribers.models import ConsentSource, MailingList, Subscriber, SubscriptionStatus

ONE_CLICK_WORDING = "Used the one-click unsubscribe in their email program (RFC 8058)."
PAGE_WORDING = "Pressed \"Unsubscribe\" on the page reached from the unsubscribe link in an email."
MAILTO_WORDING = "Sent an email to the unsubscribe address in one of our emails."


@dataclass(frozen=True)
class UnsubscribeTarget:
    """Who and which lists an unsubscribe link names; `subscriber` is None once they have been erased."""

    subscriber: Subscriber | None
    lists: list[MailingList]
    list_ids: tuple[int, ...]


def target_of(session: Session, settings: Settings, token: str) -> UnsubscribeTarget:
    """Read an unsubscribe token; BadToken if tampered or foreign. Unsubscribe links never expire."""
    target = links.read_token(settings, links.UNSUBSCRIBE, token, max_age=None)
    subscriber = store.subscriber_by_token_key(session, target.token_key)
    if subscriber is None:
        return UnsubscribeTarget(None, [], target.list_ids)
    if target.list_ids:
        lists = store.lists_by_id(session, target.list_ids)
    else:
        lists = [lst for row, lst in store.subscriptions_of(session, subscriber.id)
                 if row.status is not SubscriptionStatus.UNSUBSCRIBED]
    return UnsubscribeTarget(subscriber, lists, target.list_ids)


def unsubscribe_by_token(session: Session, settings: Settings, token: str, source: ConsentSource) -> list[int]:
    """Leave the lists the token names (all lists if it names none); returns the list ids that changed."""
    target = target_of(session, settings, token)
    if target.subscriber is None:
        return []
    wording = ONE_CLICK_WORDING if source is ConsentSource.ONE_CLICK else PAGE_WORDING
    return membership.leave(session, target.subscriber, target.list_ids or None, source=source, wording=wording)


# --- mailto, from a maildir ---------------------------------------------------------------------

# Where a mail server records the address a message was really delivered to, most reliable first.
_RECIPIENT_HEADERS = ("Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To", "To", "Cc")


@dataclass
class MailboxReport:
    read: int = 0
    unsubscribed: int = 0
    already_gone: int = 0
    not_ours: int = 0
    problems: list[str] = field(default_factory=list)


def _targets_in(settings: Settings, message: mailbox.MaildirMessage) -> list[links.LinkTarget]:
    found: list[links.LinkTarget] = []
    for header in _RECIPIENT_HEADERS:
        for _, address in getaddresses([str(value) for value in message.get_all(header, [])]):
            try:
                target = links.read_mailto_address(settings, address)
            except BadToken:
                continue
            if target not in found:
                found.append(target)
    return found


def process_maildir(
    folder: Path,
    settings: Settings,
    session_scope: Callable[[], AbstractContextManager[Session]],
    *,
    delete: bool = False,
) -> MailboxReport:
    """Act on every new message sent to an `unsubscribe+...@` address, then mark it read (or delete it).

    Each message is its own transaction, so one bad message cannot undo the others, and a message is
    marked read only after its unsubscribe is committed: a crash means it is processed again, which
    is harmless because leaving a list twice changes nothing.
    """
    box = mailbox.Maildir(folder, factory=None, create=False)
    report = MailboxReport()
    for key in list(box.iterkeys()):
        message = box.get_message(key)
        if message.get_subdir() != "new" and "S" in message.get_flags():
            continue
        report.read += 1
        targets = _targets_in(settings, message)
        if not targets:
            report.not_ours += 1
        for target in targets:
            with session_scope() as session:
                subscriber = store.subscriber_by_token_key(session, target.token_key)
                if subscriber is None:
                    report.already_gone += 1
                    continue
                changed = membership.leave(
                    session, subscriber, target.list_ids or None, source=ConsentSource.MAILTO, wording=MAILTO_WORDING
                )
                report.unsubscribed += 1 if changed else 0
                report.already_gone += 0 if changed else 1
        if delete:
            box.remove(key)
        else:
            message.set_subdir("cur")
            message.add_flag("S")
            box[key] = message
    return report
