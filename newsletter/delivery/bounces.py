"""Bounces and complaints that arrive after sending: DSNs (RFC 3464) and feedback reports (RFC 5965).

Each report is tied to its delivery row through the VERP envelope sender it was returned to
(`bounces+<delivery>-<tag>@domain`), which works even when a DSN is malformed; the tag stops anyone
forging bounces for other people's rows. A permanent failure (status 5.x.x) bounces the row and
suppresses the address; a transient one (4.x.x) is only recorded. A complaint unsubscribes and
suppresses.
"""

from __future__ import annotations

import email
import email.policy
import mailbox
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage, Message
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.db import session_scope, utcnow
from newsletter.delivery import audience
from newsletter.delivery.mime import parse_verp
from newsletter.delivery.models import Delivery, DeliveryState

_STATUS = re.compile(r"([245])\.(\d{1,3})\.(\d{1,3})")
_MESSAGE_ID = re.compile(r"<nl\.(\d+)\.(\d+)@")
_ADDRESS_HEADERS = ("X-Original-To", "Delivered-To", "Envelope-To", "X-Envelope-To", "To")


@dataclass
class BounceReport:
    hard: int = 0
    soft: int = 0
    complaints: int = 0
    unmatched: int = 0
    ignored: int = 0  # not a bounce at all (an auto-reply to the bounce address)
    problems: list[str] = field(default_factory=list)

    def add(self, other: BounceReport) -> None:
        self.hard += other.hard
        self.soft += other.soft
        self.complaints += other.complaints
        self.unmatched += other.unmatched
        self.ignored += other.ignored
        self.problems += other.problems

    def summary(self) -> str:
        return (f"{self.hard} hard bounces, {self.soft} soft bounces, {self.complaints} complaints, "
                f"{self.unmatched} not matched to a delivery, {self.ignored} not bounces")


@dataclass(frozen=True)
class RecipientStatus:
    address: str
    status: str
    action: str
    diagnostic: str

    @property
    def permanent(self) -> bool:
        return self.status.startswith("5")


def _delivery_status(message: Message) -> list[RecipientStatus]:
    """Per-recipient fields of the message/delivery-status part (its blocks parse as header groups)."""
    found = []
    for part in message.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        payload = part.get_payload()
        groups: list[Message] = payload if isinstance(payload, list) else []
        if not groups:  # some writers send it as text: parse the blank-line separated groups ourselves
            raw = part.get_payload(decode=True) or b""
            groups = [email.message_from_bytes(chunk.strip() + b"\n") for chunk in re.split(rb"\r?\n\r?\n", raw)
                      if chunk.strip()]
        for group in groups[1:] if len(groups) > 1 else groups:
            status_field = str(group.get("Status", ""))
            match = _STATUS.search(status_field)
            recipient = str(group.get("Final-Recipient") or group.get("Original-Recipient") or "")
            if not match and not recipient:
                continue
            found.append(RecipientStatus(
                address=recipient.split(";", 1)[-1].strip(),
                status=match.group(0) if match else "",
                action=str(group.get("Action", "")).strip().lower(),
                diagnostic=" ".join(str(group.get("Diagnostic-Code", "")).split()),
            ))
    return found


_PERMANENT_WORDS = ("permanent error", "no mailbox", "user unknown", "does not exist", "no such user",
                    "address rejected", "unknown user")


def _plain_text_status(message: Message) -> RecipientStatus | None:
    """A status read from a bounce written as plain text, only when it clearly says permanent failure."""
    texts = [part.get_payload(decode=True) or b"" for part in message.walk() if part.get_content_type() == "text/plain"]
    text = b"\n".join(texts).decode("utf-8", "replace")
    lowered = text.lower()
    match = _STATUS.search(text)
    if match and match.group(1) == "5" or any(word in lowered for word in _PERMANENT_WORDS):
        line = next((line.strip() for line in text.splitlines() if _STATUS.search(line) or "mailbox" in line.lower()), "")
        return RecipientStatus("", match.group(0) if match else "5.0.0", "failed", line[:300])
    return None


def _verp_delivery(message: Message, settings: Settings) -> int | None:
    for name in _ADDRESS_HEADERS:
        for value in message.get_all(name, []) or []:
            delivery_id = parse_verp(str(value), settings.secret_key)
            if delivery_id is not None:
                return delivery_id
    # Some relays quote our original message back: its Return-Path or Message-ID still names the row.
    for part in message.walk():
        if part.get_content_type() in ("message/rfc822", "text/rfc822-headers"):
            text = part.as_string() if part.get_content_type() == "message/rfc822" else str(part.get_payload())
            for line in text.splitlines():
                if line.lower().startswith("return-path:"):
                    delivery_id = parse_verp(line, settings.secret_key)
                    if delivery_id is not None:
                        return delivery_id
            match = _MESSAGE_ID.search(text)
            if match:
                return int(match.group(2))
    return None


def _is_report(message: Message, kind: str) -> bool:
    return message.get_content_type() == "multipart/report" and message.get_param("report-type", "").lower() == kind


def _address_of(session: Session, delivery_id: int | None) -> str | None:
    if delivery_id is None:
        return None
    subscriber_id = session.scalar(select(Delivery.subscriber_id).where(Delivery.id == delivery_id))
    return audience.email_of(session, subscriber_id) if subscriber_id is not None else None


def process_message(session: Session, message: Message, settings: Settings) -> BounceReport:
    report = BounceReport()
    delivery_id = _verp_delivery(message, settings)
    row = session.get(Delivery, delivery_id) if delivery_id is not None else None
    if _is_report(message, "feedback-report"):
        address = _address_of(session, delivery_id)
        if address is None:
            report.unmatched += 1
            return report
        audience.complaint(session, address)
        report.complaints += 1
        return report
    if row is None:
        # Only a report returned to one of our signed VERP addresses is acted on: otherwise anyone
        # could mail us a made-up DSN naming a reader and have them suppressed.
        report.unmatched += 1
        return report
    statuses = _delivery_status(message) if _is_report(message, "delivery-status") else []
    if not statuses:
        # Old MTAs (qmail and friends) bounce in plain text. Anything else sent to a VERP address,
        # such as an out-of-office reply, must not cost the reader their subscription.
        guessed = _plain_text_status(message)
        if guessed is None:
            report.ignored += 1
            return report
        statuses = [guessed]
    for status in statuses:
        if status.action == "delayed" or not status.permanent:
            report.soft += 1
            row.last_reply = f"{status.status} {status.diagnostic}".strip()[:2000]
            continue
        address = _address_of(session, delivery_id)
        row.state = DeliveryState.BOUNCED
        # A row bounced while a worker holds it (a retry in flight) is taken from that claim, so the
        # worker's later result cannot overwrite the bounce, and no lease is left on a final row.
        row.claim_token = ""
        row.lease_until = None
        row.reason = f"dsn {status.status}"
        row.last_reply = status.diagnostic[:2000] or status.status
        row.updated_at = utcnow()
        if address is None:  # the reader was erased since; the row is enough
            continue
        audience.hard_bounce(session, address, status.diagnostic)
        report.hard += 1
    return report


def parse(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.compat32)  # type: ignore[return-value]


def _messages(path: Path) -> Iterator[tuple[bytes, object]]:
    if path.is_dir():
        box: mailbox.Mailbox = mailbox.Maildir(str(path), factory=None, create=False)
    else:
        box = mailbox.mbox(str(path), create=False)
    for key in list(box.keys()):
        yield box.get_bytes(key), (box, key)


def process_mailbox(path: Path, settings: Settings) -> BounceReport:
    """Read every message in a maildir (folder) or mbox (file); processed maildir messages are removed."""
    total = BounceReport()
    for raw, (box, key) in _messages(path):  # type: ignore[misc]
        try:
            with session_scope() as session:
                total.add(process_message(session, parse(raw), settings))
        except Exception as error:  # one unreadable report must not stop the rest
            total.problems.append(f"message {key}: {error}")
            continue
        if isinstance(box, mailbox.Maildir):
            box.remove(key)
    return total


def process_raw(messages: Iterable[bytes], settings: Settings) -> BounceReport:
    total = BounceReport()
    for raw in messages:
        with session_scope() as session:
            total.add(process_message(session, parse(raw), settings))
    return total
