"""The colour sets of the public pages' reading options (web.css), checked for contrast without a browser.

Each set (normal, dark, high contrast, high contrast dark) is a block of custom properties; here every
pair the pages actually draw is measured: 4.5:1 for text (WCAG 1.4.3), 3:1 for the edges of controls and
the focus indicator (WCAG 1.4.11). The browser tests run axe-core over the same modes as a second look.
"""

from __future__ import annotations

import re

import pytest

from newsletter.checks.contrast import contrast_ratio
from newsletter.paths import templates_dir

CSS = (templates_dir() / "web" / "static" / "web.css").read_text(encoding="utf-8")

NORMAL = ":root"
DARK = "html.reader-page.theme-dark"
HIGH = "html.reader-page.contrast-high"
HIGH_DARK = "html.reader-page.contrast-high.theme-dark"
# The device's own dark setting, until the reader chooses, uses the same sets as the dark button.
DEVICE_DARK = "html.reader-page:not(.theme-light)"
DEVICE_HIGH_DARK = "html.reader-page.contrast-high:not(.theme-light)"

# Text on the surfaces it is drawn on: body text on the sheet, page (header and footer area) and cards;
# links everywhere text is; grey text under images and dates; button words on buttons (and on hover);
# the header; the yellow focus highlight; text in the search box.
TEXT_PAIRS = [
    ("text", "background"), ("text", "page"), ("text", "card"), ("text", "field-bg"),
    ("link", "background"), ("link", "page"), ("link", "card"),
    ("muted", "background"), ("muted", "card"),
    ("button-text", "accent"), ("button-text", "accent-dark"),
    ("header-text", "header-bg"), ("focus-text", "focus"),
]
# Edges a reader must see to find a control: the reading option buttons (on the page background, on or
# off), the search box's border (drawn in the text colour) and buttons on the sheet.
EDGE_PAIRS = [("control-border", "page"), ("accent", "page"), ("accent", "background"), ("text", "field-bg")]


def _block(selector: str) -> dict[str, str]:
    """The custom properties of the first rule whose selector is exactly `selector`."""
    match = re.search(r"(?:^|[}\s])" + re.escape(selector) + r"\s*\{([^}]*)\}", CSS)
    assert match, f"web.css has no rule for {selector}"
    return dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{6})", match.group(1)))


def _palette(*selectors: str) -> dict[str, str]:
    """Later blocks override earlier ones, as the cascade does for these selectors."""
    colours: dict[str, str] = {}
    for selector in selectors:
        colours.update(_block(selector))
    return colours


PALETTES = {
    "normal": (NORMAL,),
    "dark": (NORMAL, DARK),
    "high contrast": (NORMAL, HIGH),
    "high contrast dark": (NORMAL, HIGH_DARK),
}


@pytest.mark.parametrize("name", PALETTES)
def test_every_text_colour_has_4_5_to_1(name: str) -> None:
    colours = _palette(*PALETTES[name])
    low = [
        f"{fg} {colours[fg]} on {bg} {colours[bg]}: {contrast_ratio(colours[fg], colours[bg]):.2f}:1"
        for fg, bg in TEXT_PAIRS
        if contrast_ratio(colours[fg], colours[bg]) < 4.5
    ]
    assert not low, f"{name}: text under 4.5:1:\n  " + "\n  ".join(low)


@pytest.mark.parametrize("name", PALETTES)
def test_control_edges_and_focus_have_3_to_1(name: str) -> None:
    colours = _palette(*PALETTES[name])
    low = [
        f"{fg} {colours[fg]} against {bg} {colours[bg]}: {contrast_ratio(colours[fg], colours[bg]):.2f}:1"
        for fg, bg in EDGE_PAIRS
        if contrast_ratio(colours[fg], colours[bg]) < 3
    ]
    for surface in ("page", "background", "card"):
        # The focus indicator is the yellow highlight or its outline: at least one must stand out.
        best = max(contrast_ratio(colours[part], colours[surface]) for part in ("focus", "focus-outline"))
        if best < 3:
            low.append(f"focus indicator against {surface}: {best:.2f}:1")
    assert not low, f"{name}: under 3:1:\n  " + "\n  ".join(low)


def test_every_set_names_every_colour() -> None:
    names = set(_block(NORMAL))
    for selector in (DARK, HIGH, HIGH_DARK):
        assert set(_block(selector)) == names, f"{selector} misses {names - set(_block(selector))}"


def test_device_dark_setting_uses_the_same_colours_as_the_buttons() -> None:
    # The dark sets are written twice (for the button and for the device setting): they must not drift.
    assert _block(DEVICE_DARK) == _block(DARK)
    assert _block(DEVICE_HIGH_DARK) == _block(HIGH_DARK)
