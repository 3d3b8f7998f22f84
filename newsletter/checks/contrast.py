"""Colour contrast of the theme, by the WCAG 2.x formula.

The theme's colours are used for every issue, so a pale grey chosen once would make every email
hard to read for people with low vision or reading on a phone in sunlight. WCAG 2.x success
criterion 1.4.3 asks for 4.5:1 between normal-size text and its background; the newsletter's
captions, footer and masthead line are normal-size text, so 4.5:1 applies to every pair.
"""

from __future__ import annotations

import re

from newsletter.checks.report import Finding
from newsletter.theme import Theme

MINIMUM_RATIO = 4.5

_HEX = re.compile(r"^#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3})$")

# (foreground field, background field, what the pair is used for, in an officer's words)
THEME_PAIRS: tuple[tuple[str, str, str], ...] = (
    ("text_colour", "background_colour", "body text on the content background"),
    ("link_colour", "background_colour", "links on the content background"),
    ("muted_colour", "background_colour", "captions and small print on the content background"),
    ("muted_colour", "page_colour", "the 'view as a web page' link on the page background"),
    ("text_colour", "page_colour", "the footer text on the page background"),
    ("button_text_colour", "accent_colour", "button labels on the button colour"),
)


def _channels(colour: str) -> tuple[int, int, int]:
    match = _HEX.match(colour.strip())
    if not match:
        raise ValueError(f"{colour!r} is not a hex colour such as #1f1f1f")
    digits = match.group(1)
    if len(digits) == 3:
        digits = "".join(ch * 2 for ch in digits)
    return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)


def _linear(channel: int) -> float:
    value = channel / 255
    # WCAG 2.x gives 0.03928 as the threshold; sRGB's 0.04045 differs only in values no 8-bit colour hits.
    return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4


def relative_luminance(colour: str) -> float:
    """Relative luminance (0 for black, 1 for white) of a '#rrggbb' or '#rgb' colour."""
    red, green, blue = (_linear(channel) for channel in _channels(colour))
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast_ratio(first: str, second: str) -> float:
    """WCAG contrast ratio of two colours, from 1.0 (same) to 21.0 (black on white); order does not matter."""
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def _advice(foreground_field: str, foreground: str, background_field: str, background: str) -> str:
    """Which way to move the colours: dark text needs to get darker, light text lighter."""
    if relative_luminance(foreground) <= relative_luminance(background):
        return f"make {foreground_field} darker or {background_field} lighter"
    return f"make {foreground_field} lighter or {background_field} darker"


def theme_findings(theme: Theme, minimum: float = MINIMUM_RATIO) -> list[Finding]:
    """An error for each text/background pair of the theme below `minimum` (4.5:1).

    The ratio is not rounded before comparing: WCAG treats 4.48:1 as a fail even though it
    would print as 4.5.
    """
    findings: list[Finding] = []
    for foreground_field, background_field, used_for in THEME_PAIRS:
        foreground = getattr(theme, foreground_field)
        background = getattr(theme, background_field)
        ratio = contrast_ratio(foreground, background)
        if ratio < minimum:
            findings.append(
                Finding(
                    level="error",
                    code="low-contrast",
                    message=(
                        f"The theme's {foreground_field} {foreground} on {background_field} {background} "
                        f"({used_for}) has a contrast of {ratio:.2f}:1; it needs at least {minimum:g}:1 "
                        "so people with low vision can read it. In the theme file, "
                        f"{_advice(foreground_field, foreground, background_field, background)}, "
                        "then check again."
                    ),
                )
            )
    return findings
