"""Emails to the team as an issue moves towards approval: something waits for you.

- Submitted for approval: every active approver except the issue's author is told.
- Approved, or sent back to draft: the author is told (not when they did it themselves).

Plain text with the issue's title and a link to it in the composer. They are sent after the change is
committed and off the request path, in one thread of this process (the way the subscribers package's
"mail me a new link" goes on the embedded default), through the transport the web app hands over; a
mail server that refuses or cannot be reached is logged and goes no further, so pressing Submit never
fails because of mail. A process stopped before its thread sent them loses a reminder, not any content.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import Protocol

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from newsletter.accounts.models import Role, User
from newsletter.config import Settings
from newsletter.headersafe import check_header
from newsletter.issues.models import Issue
from newsletter.later import Later

log = logging.getLogger(__name__)


class Event(str, enum.Enum):
    SUBMITTED = "submitted"
    APPROVED = "approved"
    SENT_BACK = "sent-back"


class Mailer(Protocol):
    def send(self, sender: str, recipient: str, message: bytes) -> str: ...


@dataclass(frozen=True)
class TeamEmail:
    to: str
    name: str
    subject: str
    body: str


def _link(settings: Settings, issue: Issue) -> str:
    return f"{settings.base_url}/team/issues/{issue.slug}"


def emails_for(session: Session, event_kind: Event, issue: Issue, actor_id: int | None,
               settings: Settings) -> list[TeamEmail]:
    """Who to tell about `event_kind` on `issue`, and what to say; nobody is told what they did themselves."""
    actor = session.get(User, actor_id) if actor_id is not None else None
    by = actor.name if actor is not None else "Someone at the command line"
    link = _link(settings, issue)
    if event_kind is Event.SUBMITTED:
        approvers = session.scalars(select(User).where(User.role == Role.APPROVER, User.active.is_(True))
                                    .order_by(User.id))
        body = (f"{by} submitted “{issue.title}” for approval.\n\n"
                f"Read it, check it and approve it, or send it back to draft, here:\n{link}\n")
        return [TeamEmail(u.email, u.name, f"Waiting for your approval: {issue.title}", body)
                for u in approvers if u.id not in (issue.created_by_id, actor_id)]
    author = session.get(User, issue.created_by_id) if issue.created_by_id is not None else None
    if author is None or not author.active or author.id == actor_id:
        return []
    if event_kind is Event.APPROVED:
        body = f"{by} approved “{issue.title}”. It can now be scheduled or sent:\n{link}\n"
        return [TeamEmail(author.email, author.name, f"Approved: {issue.title}", body)]
    body = (f"{by} sent “{issue.title}” back to draft, so it can be changed before it is submitted again:\n"
            f"{link}\n")
    return [TeamEmail(author.email, author.name, f"Back to draft: {issue.title}", body)]


def build(settings: Settings, email: TeamEmail) -> bytes:
    check_header("the From address", settings.from_address)
    check_header("the subject", email.subject)
    message = EmailMessage()
    message["From"] = settings.from_address
    message["To"] = Address(display_name=email.name, addr_spec=email.to)
    message["Subject"] = email.subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=settings.sender_domain)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(f"Hello {email.name},\n\n{email.body}\n— The newsletter composer\n", charset="utf-8")
    return message.as_bytes()


def send_now(settings: Settings, emails: list[TeamEmail], connect: Callable[[Settings], Mailer]) -> None:
    """Send each email, logging (not raising) when the mail server refuses or cannot be reached."""
    if not emails:
        return
    sender = parseaddr(settings.from_address)[1]
    try:
        transport = connect(settings)
    except Exception as error:
        log.error("could not reach the mail server for %d team email(s): %s", len(emails), error)
        return
    try:
        for email in emails:
            try:
                transport.send(sender, email.to, build(settings, email))
            except Exception as error:
                log.error("a team email (%s) was not sent: %s", email.subject, error)
    finally:
        close = getattr(transport, "close", None)
        if close is not None:
            try:
                close()
            except Exception:
                log.exception("closing the mail transport failed")


def send_after_commit(session: Session, event_kind: Event, issue: Issue, actor_id: int | None, settings: Settings,
                      connect: Callable[[Settings], Mailer]) -> None:
    """Decide now, send once `session` commits (nothing if it rolls back), off the request path."""
    try:
        emails = emails_for(session, event_kind, issue, actor_id, settings)
    except Exception:
        log.exception("could not work out who to email about %s", event_kind.value)
        return
    if emails:
        event.listen(session, "after_commit", lambda _session: _local.put(_send_logged, settings, emails, connect), once=True)


def _send_logged(settings: Settings, emails: list[TeamEmail], connect: Callable[[Settings], Mailer]) -> None:
    try:
        send_now(settings, emails, connect)
    except Exception:
        log.exception("team emails failed")


_local = Later("team-mail")
drain = _local.drain

__all__ = ["Event", "TeamEmail", "build", "drain", "emails_for", "send_after_commit", "send_now"]
