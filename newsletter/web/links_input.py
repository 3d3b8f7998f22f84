"""Addresses as people type them, made into links: `www.example.org`, `jo@example.org`, `01632 960 123`.

An officer should not need to know that a link starts `https://` or `mailto:`. This module turns
what they type into the full address the issue format stores, or says in plain words why it cannot
be a link. The link rows of the block forms and the link dialog of the text editor both use it, so
an address is completed the same way wherever it is typed.
"""

from __future__ import annotations

import re

from newsletter.errors import NewsletterError

SCHEMES = ("https://", "http://", "mailto:", "tel:")

_EMAIL = re.compile(r"^[^@\s/:<>()\[\],;]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
# A phone number as it is written in the UK: digits with spaces, dashes, dots or brackets, +44 or 0 first.
_PHONE = re.compile(r"^\+?[0-9(][0-9 ()\-.]*[0-9]$")
# A host name with a top-level domain of letters, then an optional port and path: "gov.uk/send".
_BARE_HOST = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,}(?::[0-9]+)?(?:[/?#]\S*)?$")
_OTHER_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")

EXAMPLE = "such as www.example.org"


class AddressProblem(NewsletterError, ValueError):
    """What was typed cannot be a link; the message says why in words an officer can act on."""


def _phone(text: str) -> str | None:
    if not _PHONE.match(text):
        return None
    digits = re.sub(r"[^0-9]", "", text.replace("(0)", ""))
    if not 5 <= len(digits) <= 15:
        return None
    if text.startswith("+"):
        return "tel:+" + digits
    # A UK number written nationally (01632 960 123) dials from anywhere as +44 without its 0.
    if digits.startswith("0") and not digits.startswith("00") and len(digits) >= 10:
        return "tel:+44" + digits[1:]
    if digits.startswith("00"):
        return "tel:+" + digits[2:]
    return "tel:" + digits


def normalise_address(typed: str, *, web_only: bool = False) -> str:
    """The full address for what was typed, or AddressProblem.

    `web_only` refuses email addresses and phone numbers (a social media link must be a page).
    """
    text = typed.strip()
    if not text:
        raise AddressProblem(f"give the address, {EXAMPLE}")
    lower = text.lower()
    if lower.startswith(("https://", "http://")):
        if any(ch.isspace() for ch in text):
            raise AddressProblem("an address cannot have spaces in it")
        if len(text) <= len("https://") or "." not in text.split("//", 1)[1].split("/", 1)[0]:
            raise AddressProblem(f"that is not a whole web address: give one {EXAMPLE}")
        return text
    if lower.startswith(("mailto:", "tel:")):
        if web_only:
            raise AddressProblem(f"give the address of a web page, {EXAMPLE}")
        rest = text.split(":", 1)[1].strip()
        if not rest or any(ch.isspace() for ch in rest) and lower.startswith("mailto:"):
            raise AddressProblem("give the email address or phone number after the colon")
        if lower.startswith("tel:"):
            number = _phone(rest)
            if number is None:
                raise AddressProblem("that is not a phone number we can link to")
            return number
        return "mailto:" + rest
    if text.startswith("//"):
        return normalise_address("https:" + text, web_only=web_only)
    if _EMAIL.match(text):
        if web_only:
            raise AddressProblem(f"give the address of a web page, not an email address, {EXAMPLE}")
        return "mailto:" + text
    number = _phone(text)
    if number is not None:
        if web_only:
            raise AddressProblem(f"give the address of a web page, not a phone number, {EXAMPLE}")
        return number
    if _BARE_HOST.match(text):
        return "https://" + text
    if _OTHER_SCHEME.match(text) and not re.match(r"^[A-Za-z0-9.-]+:[0-9]+", text):
        raise AddressProblem("only web addresses, email addresses and phone numbers can be links")
    if any(ch.isspace() for ch in text):
        raise AddressProblem(f"an address cannot have spaces in it; give one {EXAMPLE}")
    raise AddressProblem(f"that is not a web address, email address or phone number; give one {EXAMPLE}")


def try_normalise(typed: str, *, web_only: bool = False) -> str | None:
    """The full address, or None when what was typed cannot be a link (used for pasted links)."""
    try:
        return normalise_address(typed, web_only=web_only)
    except AddressProblem:
        return None
