"""The example details a new installation starts with, still in the theme.

The built-in theme and examples/theme.yaml carry a made-up address, `example.org` addresses and a
drama-range phone number so the service runs out of the box. Sent for real, every family would get
a footer telling them to write to "Town Hall, High Street, Anytown" or to call a number nobody
answers: so each one left in the theme is an error, which stops approval and sending until an
approver changes it on the composer's "Theme and footer" page.
"""

from __future__ import annotations

import re

from newsletter.checks.report import Finding
from newsletter.theme import Theme

# Where the composer changes the theme (newsletter/web/theme_page.py); the message names it for the
# command line, and the composer links to it.
THEME_PAGE = "/team/theme"

# RFC 2606 keeps these domains for examples; no council's mail or website can be at one.
_EXAMPLE_DOMAIN = re.compile(r"(^|[@./])example\.(org|com|net)\b", re.IGNORECASE)
# Ofcom keeps 01632 960000 to 960999 for drama: nobody answers these numbers.
_DRAMA_NUMBER = re.compile(r"01632\s*960\s*\d{3}")
_EXAMPLE_ADDRESS = ("town hall, high street, anytown", "ab1 2cd")
_EXAMPLE_TOWN = re.compile(r"\banytown\b", re.IGNORECASE)

# (field, what the person sees it as on the theme page)
_FIELDS = (
    ("organisation", "Organisation name"),
    ("masthead", "Masthead"),
    ("postal_address", "Postal address"),
    ("contact_email", "Contact email"),
    ("contact_phone", "Contact phone"),
    ("footer_text", "Footer text"),
    ("privacy_url", "Privacy notice link"),
)


def _what(value: str) -> str | None:
    """Which example detail `value` holds, in words, or None."""
    if _EXAMPLE_DOMAIN.search(value):
        return "an example address (example.org or example.com)"
    if _DRAMA_NUMBER.search(value):
        return "the example phone number 01632 960 123"
    lowered = " ".join(value.lower().split())
    if any(words in lowered for words in _EXAMPLE_ADDRESS):
        return "the example address (Town Hall, High Street, Anytown, AB1 2CD)"
    if _EXAMPLE_TOWN.search(value):
        return "the made-up town “Anytown”"
    return None


def placeholder_findings(theme: Theme) -> list[Finding]:
    """An error for each theme field still holding one of the example details."""
    values = [(name, label, getattr(theme, name)) for name, label in _FIELDS]
    if theme.logo is not None:
        values.append(("logo", "Logo", theme.logo.src))
    findings = []
    for name, label, value in values:
        if not isinstance(value, str) or not value:
            continue
        what = _what(value)
        if what:
            findings.append(Finding(
                level="error",
                code="placeholder-details",
                message=(f"The footer still has {what} in “{label}”: families would be told to use it. "
                         f"An approver can put your council's own details on the Theme and footer page "
                         f"({THEME_PAGE})."),
            ))
    return findings
