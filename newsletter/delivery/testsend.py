"""Test sends: one copy of an issue, in any state, to the team's own addresses.

A test copy is the same message a reader gets, except that its personal links lead to an
explanation instead of changing anyone's subscription, and the subject says it is a test.

Any editor can test-send a draft nobody has approved, so a test send is kept to a handful of
addresses (`NEWSLETTER_TEST_SEND_MAX_ADDRESSES`, 10 by default) and each one is logged with who sent
it and to whom: the addresses are the team's own, not readers'.
"""

from __future__ import annotations

import logging

from email_validator import EmailNotValidError, validate_email
from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.counts import links as counted_links
from newsletter.delivery.mime import MessageBodies, single_copy
from newsletter.delivery.transport import DeliveryError, transport_for
from newsletter.errors import NewsletterError
from newsletter.headersafe import HeaderValueError
from newsletter.issues import service, store
from newsletter.issues.models import Issue
from newsletter.render.personalise import PersonalTemplate
from newsletter.render.pipeline import RenderedIssue
from newsletter.theme import get_theme


log = logging.getLogger(__name__)


class InvalidAddress(NewsletterError):
    pass


class TooManyAddresses(InvalidAddress):
    pass


def send_test_copies(session: Session, slug: str, addresses: list[str], settings: Settings, *,
                     sent_by: str) -> list[str]:
    """Send one test copy to each address; `sent_by` names who asked (an account's address, or "cli")."""
    issue = store.get_issue(session, slug)
    checked: list[str] = []
    seen: set[str] = set()
    for address in addresses:
        try:
            normalized = validate_email(address, check_deliverability=False).normalized
        except EmailNotValidError as error:
            raise InvalidAddress(f"{address!r} is not an email address: {error}") from None
        if normalized.lower() not in seen:  # one copy per mailbox, however it was typed
            seen.add(normalized.lower())
            checked.append(normalized)
    limit = settings.test_send_max_addresses
    if len(checked) > limit:
        log.warning("test send of %r by %s refused: %d addresses, more than %d", slug, sent_by, len(checked), limit)
        raise TooManyAddresses(
            f"A test can go to at most {limit} addresses; this asked for {len(checked)}. "
            "Send it to fewer people (to share a draft more widely, create a review link)."
        )
    log.info("test send of %r by %s to %d addresses: %s", slug, sent_by, len(checked), ", ".join(checked))
    rendered = _with_counted_links(session, issue, service.rendered(issue, get_theme(), settings), settings)
    transport = transport_for(settings)
    results = []
    try:
        for address in checked:
            try:
                message = _build(rendered, issue, address, settings)
            except HeaderValueError as error:
                # A value stored before header values were checked (such as a subject with U+2028):
                # every copy would fail alike, so say why once instead of answering with an error page.
                return [*results, f"Could not send the test: {error}."]
            try:
                transport.send(settings.from_address.split("<")[-1].rstrip(">").strip(), address, message)
                results.append(f"Sent a test of “{issue.title}” to {address}.")
            except DeliveryError as error:
                results.append(f"Could not send to {address}: {error}")
    finally:
        transport.close()
    return results


def _with_counted_links(session: Session, issue: Issue, rendered: RenderedIssue, settings: Settings) -> MessageBodies:
    """The bodies with the same click-counted links a reader's copy has, so the team can follow them.

    A click is counted only once a campaign of the issue has started, so the team's own test clicks
    before the send are not in its report.
    """
    email_html, email_text = counted_links.for_issue(session, issue.id, rendered.html.source, rendered.text.source,
                                                     settings)
    return MessageBodies(html=PersonalTemplate.compile(email_html, escape=True),
                         text=PersonalTemplate.compile(email_text, escape=False))


def _build(rendered: RenderedIssue | MessageBodies, issue: Issue, address: str, settings: Settings) -> bytes:
    return single_copy(rendered, subject=f"[Test] {issue.subject}", from_address=settings.from_address,
                       language=issue.language, domain=settings.sender_domain, to=address,
                       links_to=f"{settings.base_url}/test-link")
