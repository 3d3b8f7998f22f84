"""Email addresses: one normal form for storing, comparing and hashing.

Every address that enters the system (form, import, the team, a bounce) goes through
`normalise_email`, so "Jo.Bloggs@Example.ORG " and "jo.bloggs@example.org" are the same person
and the unique index on `subscribers.email` is case-insensitive by construction.
"""

from __future__ import annotations

import hashlib
import re

from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email
from email_validator.rfc_constants import DOMAIN_MAX_LENGTH, EMAIL_MAX_LENGTH

from subscribers.errors import InvalidEmail

# RFC 5321 limits a path to 256 octets; anything longer cannot be delivered, whatever the syntax.
MAX_LENGTH = 254

# The everyday shape of an address (plain ASCII, dot-atom local part, LDH labels, alphabetic TLD), which
# email-validator always accepts and normalises to itself with the domain lower-cased. Checking it with one
# regular expression costs about 1 µs against 50 µs for the full validation, which is most of the time of a
# 100,000-row import. tests/subscribers/test_emails.py proves with hypothesis that the two agree.
_EVERYDAY = re.compile(
    r"(?P<local>[A-Za-z0-9_+-]{1,64}(?:\.[A-Za-z0-9_+-]+)*)@"
    r"(?P<domain>(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63})"
)
_SPECIAL = frozenset(SPECIAL_USE_DOMAIN_NAMES)


def _everyday(text: str) -> str | None:
    if len(text) > EMAIL_MAX_LENGTH:
        return None
    match = _EVERYDAY.fullmatch(text)
    if match is None or len(match["local"]) > 64 or len(match["domain"]) > DOMAIN_MAX_LENGTH:
        return None
    if "--" in match["domain"]:
        return None
    labels = match["domain"].lower().split(".")
    if any(".".join(labels[i:]) in _SPECIAL for i in range(len(labels))):
        return None
    return text.lower()


def normalise_email(raw: str) -> str:
    """The stored form of an address, or InvalidEmail with a sentence saying what is wrong.

    email-validator checks the syntax, lower-cases the domain and applies Unicode NFC. We then
    lower-case the local part too: RFC 5321 allows a mailbox to be case-sensitive, but no provider
    our families use is, and treating "Jo@" and "jo@" as two people would mail one family twice.
    Deliverability (DNS) is not checked: imports of 100,000 rows must not make 100,000 lookups, and a
    resolver outage must not turn a parent away at the form. Bounces catch dead mailboxes instead.
    """
    text = (raw or "").strip()
    if not text:
        raise InvalidEmail("The email address is empty.")
    if len(text) > MAX_LENGTH:
        raise InvalidEmail(f"The email address is too long ({len(text)} characters; the limit is {MAX_LENGTH}).")
    quick = _everyday(text)
    if quick is not None:
        return quick
    try:
        result = validate_email(text, check_deliverability=False)
    except EmailNotValidError as error:
        raise InvalidEmail(f"The email address is not valid: {error}") from None
    # email-validator checks this only in strict mode; RFC 5321 mail servers refuse longer local parts.
    if len(result.local_part.encode("utf-8")) > 64:
        raise InvalidEmail("The email address is not valid: the part before the @-sign is longer than 64 characters.")
    return result.normalized.lower()


def loose_normalise(raw: str) -> str:
    """Best effort for addresses we did not choose (a bounce report may name a malformed recipient)."""
    try:
        return normalise_email(raw)
    except InvalidEmail:
        return (raw or "").strip().lower()


def email_hash(normalised: str) -> str:
    """The one-way hash the suppression list and erased people's consent lines are keyed by.

    Deliberately not keyed with NEWSLETTER_SECRET_KEY: if the key were rotated, a keyed hash would
    silently stop matching and an erased family could be mailed again from an old spreadsheet.
    The prefix keeps these hashes from matching any other SHA-256 of an address (a leaked list of
    hashed emails from elsewhere). Anyone holding the database could test a guessed address against
    it; they could equally read every current subscriber, so the database remains the thing to guard.
    """
    return hashlib.sha256(b"newsletter-suppression:" + normalised.encode("utf-8")).hexdigest()
