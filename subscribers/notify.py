"""The few emails this package sends itself: confirm your subscription, you are already subscribed, your link.

These are one-off messages, not issues: they go through the transport this package is handed
(subscribers/mailer.py: the newsletter's own SMTP or outbox transport) but are built with the
email package, which is fine at this volume. Plain text comes first and the HTML part says the
same in the same order, with `lang` set and a link whose text makes sense on its own, for screen
reader users.

Callers send *after* committing: an SMTP conversation must not hold a database transaction open.
"""

from __future__ import annotations

import enum
import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

from newsletter.config import Settings
from newsletter.headersafe import check_header
from subscribers.mailer import Mailer, Outgoing

SMTP_POLICY = policy.SMTP.clone(max_line_length=78)


class NoticeKind(str, enum.Enum):
    CONFIRM = "confirm"
    ALREADY_SUBSCRIBED = "already-subscribed"
    PREFERENCES_LINK = "preferences-link"


@dataclass(frozen=True)
class Notice:
    """An email to send once the transaction that decided on it has committed."""

    kind: NoticeKind
    to: str
    link: str
    name: str | None = None
    list_names: Sequence[str] = field(default_factory=tuple)
    # Only for CONFIRM: how long unconfirmed requests are kept, so the email can say so.
    keep_days: int = 14


@dataclass(frozen=True)
class _Content:
    subject: str
    paragraphs_before: list[str]
    link_text: str
    paragraphs_after: list[str]


def _content(notice: Notice, organisation: str) -> _Content:
    greeting = f"Hello {notice.name}," if notice.name else "Hello,"
    lists = "\n".join(f"- {name}" for name in notice.list_names)
    if notice.kind is NoticeKind.CONFIRM:
        return _Content(
            subject="Please confirm you want our emails",
            paragraphs_before=[
                greeting,
                f"You (or someone using your email address) asked to get these emails from {organisation}:",
                lists,
                "To start getting them, confirm using this link. It works for 7 days.",
            ],
            link_text="Yes, send me these emails",
            paragraphs_after=[
                ("If you did not ask for this, you do not need to do anything. We will not email you again, "
                f"and we will delete your address within {notice.keep_days} days."),
            ],
        )
    if notice.kind is NoticeKind.ALREADY_SUBSCRIBED:
        return _Content(
            subject="You already get our emails",
            paragraphs_before=[
                greeting,
                (f"Someone asked to sign this address up for emails from {organisation}, "
                "but you already get the emails that were chosen:"),
                lists,
                "You do not need to do anything. To change which emails you get, or to stop them, use this link.",
            ],
            link_text="Change your email choices",
            paragraphs_after=["If you did not ask for this, you can ignore this email."],
        )
    return _Content(
        subject="Your link to change your email choices",
        paragraphs_before=[
            greeting,
            ("Here is your personal link to change which emails you get from us, download your details or "
            "stop all our emails. Do not forward this email: the link is personal to you."),
        ],
        link_text="Change your email choices",
        paragraphs_after=["If you did not ask for this link, you can ignore this email."],
    )


def build_notice(settings: Settings, notice: Notice, organisation: str = "the Local Offer Team") -> bytes:
    content = _content(notice, organisation)
    check_header("the From address", settings.from_address)
    check_header("the reader's name", notice.name or "")
    check_header("the reader's address", notice.to)
    message = EmailMessage(policy=SMTP_POLICY)
    message["From"] = settings.from_address
    message["To"] = Address(display_name=notice.name or "", addr_spec=notice.to)
    message["Subject"] = content.subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=settings.sender_domain)
    message["Content-Language"] = "en-GB"
    # RFC 3834: an automatic message, so autoresponders do not answer it.
    message["Auto-Submitted"] = "auto-generated"

    text_lines = [*content.paragraphs_before, f"{content.link_text}:\n{notice.link}", *content.paragraphs_after]
    message.set_content("\n\n".join(text_lines) + "\n", subtype="plain", charset="utf-8", cte="quoted-printable")

    def paragraph(text: str) -> str:
        if text.startswith("- "):
            items = "".join(f"<li>{html.escape(line[2:])}</li>" for line in text.splitlines())
            return f'<ul style="font-size:16px;line-height:1.5">{items}</ul>'
        return f'<p style="font-size:16px;line-height:1.5;margin:0 0 16px">{html.escape(text)}</p>'

    body = "".join(paragraph(p) for p in content.paragraphs_before if p)
    body += (
        f'<p style="margin:0 0 24px"><a href="{html.escape(notice.link, quote=True)}" '
        'style="display:inline-block;background:#1d4f91;color:#ffffff;font-size:18px;font-weight:bold;'
        f'padding:12px 24px;text-decoration:underline">{html.escape(content.link_text)}</a></p>'
    )
    body += "".join(paragraph(p) for p in content.paragraphs_after)
    page = (
        '<!doctype html><html lang="en-GB" dir="ltr"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(content.subject)}</title></head>"
        '<body style="margin:0;padding:16px;font-family:Arial,Helvetica,sans-serif;color:#1f1f1f;background:#ffffff">'
        f'<div role="article" aria-label="{html.escape(content.subject, quote=True)}" style="max-width:600px">'
        f"{body}</div></body></html>"
    )
    message.add_alternative(page, subtype="html", charset="utf-8", cte="quoted-printable")
    return message.as_bytes(policy=SMTP_POLICY)


def send_notice(settings: Settings, notice: Notice, transport: Mailer, organisation: str | None = None) -> None:
    """Build one notice and hand it to `transport`. Raises the transport's error if the server refuses it.

    `organisation` is the theme's name for the sender; without it the process's theme is read.
    """
    if organisation is None:
        from newsletter.theme import get_theme

        organisation = get_theme().organisation
    envelope_from = parseaddr(settings.from_address)[1]
    transport.send(envelope_from, notice.to, build_notice(settings, notice, organisation))


def mail_notice(settings: Settings, notice: Notice, outgoing: Outgoing, organisation: str | None = None) -> None:
    """Open a transport as `outgoing` says, send one notice on it and close it."""
    transport = outgoing.connect(settings)
    try:
        send_notice(settings, notice, transport, organisation)
    finally:
        close = getattr(transport, "close", None)
        if close is not None:
            close()
