"""Test sends: one copy of an issue, in any state, to the team's own addresses.

A test copy is the same message a reader gets, except that its personal links lead to an
explanation instead of changing anyone's subscription, and the subject says it is a test.
"""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.delivery.message import build_message
from newsletter.delivery.transport import DeliveryError, transport_for
from newsletter.headersafe import HeaderValueError
from newsletter.issues import service, store
from newsletter.issues.models import Issue
from newsletter.render.pipeline import RenderedIssue
from newsletter.theme import get_theme


class InvalidAddress(Exception):
    pass


def send_test_copies(session: Session, slug: str, addresses: list[str], settings: Settings) -> list[str]:
    issue = store.get_issue(session, slug)
    checked = []
    for address in addresses:
        try:
            checked.append(validate_email(address, check_deliverability=False).normalized)
        except EmailNotValidError as error:
            raise InvalidAddress(f"{address!r} is not an email address: {error}") from None
    rendered = service.rendered(issue, get_theme(), settings)
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
                results.append(f"Sent a test of {slug!r} to {address}.")
            except DeliveryError as error:
                results.append(f"Could not send to {address}: {error}")
    finally:
        transport.close()
    return results


def _build(rendered: RenderedIssue, issue: Issue, address: str, settings: Settings) -> bytes:
    return build_message(
        rendered,
        subject=f"[Test] {issue.subject}",
        from_address=settings.from_address,
        to=address,
        language=issue.language,
        personal={
            "unsubscribe_url": f"{settings.base_url}/test-link",
            "preferences_url": f"{settings.base_url}/test-link",
            "name": "Test Reader",
        },
        domain=settings.sender_domain,
    )
