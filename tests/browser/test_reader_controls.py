"""The reading options on the public pages, and the accessibility statement, in a real browser.

Under "Change how this page looks" a reader can choose bigger text, more space, high contrast and dark
mode, or print. Each choice is checked for what it does to the page (sizes, spacing, colours), for WCAG
2.2 AA with axe-core while it is on, with the keyboard alone, across a reload, and on paper (print media).
Screenshots of dark and high contrast at phone and desktop widths go to test-artifacts/screenshots/.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from newsletter.db import session_scope
from newsletter.issues import store
from newsletter.issues.models import IssueStatus

from tests.browser.conftest import (
    DESKTOP,
    TIMEOUT_MS,
    LiveServer,
    assert_accessible,
    assert_focus_visible,
    assert_no_horizontal_scroll,
    screenshot,
    watch,
)

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 812}
NARROW = {"width": 320, "height": 640}
TOGGLES = ["Bigger text", "More space", "High contrast", "Dark mode"]

WHITE, BLACK = "rgb(255, 255, 255)", "rgb(0, 0, 0)"
DARK_SHEET, DARK_TEXT = "rgb(27, 29, 31)", "rgb(240, 240, 240)"
LIGHT_SHEET, LIGHT_TEXT = WHITE, "rgb(31, 31, 31)"


@pytest.fixture
def sent_issue(example_issue: str) -> str:
    with session_scope() as session:
        issue = store.get_issue(session, example_issue)
        for state in (IssueStatus.IN_REVIEW, IssueStatus.APPROVED, IssueStatus.SENDING, IssueStatus.SENT):
            store.move(issue, state)
    return example_issue


def _open(page: Page, url: str) -> None:
    response = page.goto(url, wait_until="load")
    assert response is not None and response.status == 200, f"{url} answered {response and response.status}"


def _open_with_controls(page: Page, url: str) -> None:
    _open(page, url)
    expect(page.locator(".reader-controls")).to_be_visible()


def _button(page: Page, name: str):  # type: ignore[no-untyped-def]
    return page.locator(".reader-controls").get_by_role("button", name=name, exact=True)


def _press(page: Page, name: str, pressed: bool = True) -> None:
    _button(page, name).click()
    expect(_button(page, name)).to_have_attribute("aria-pressed", "true" if pressed else "false")
    _settled(page)


def _settled(page: Page) -> None:
    """Wait for the buttons' short colour fade to end, so contrast is measured on the final colours."""
    page.wait_for_function("() => document.getAnimations().every(a => a.playState !== 'running')")


def _style(page: Page, selector: str, *names: str) -> dict[str, str]:
    return page.eval_on_selector(
        selector,
        "(el, names) => { const s = getComputedStyle(el);"
        " return Object.fromEntries(names.map(n => [n, s.getPropertyValue(n)])); }",
        list(names),
    )


def _px(value: str) -> float:
    return float(value.removesuffix("px"))


def _root_classes(page: Page) -> set[str]:
    return set(page.evaluate("() => Array.from(document.documentElement.classList)"))


def _colours(page: Page) -> tuple[str, str]:
    sheet = _style(page, "main", "background-color")["background-color"]
    text = _style(page, ".block-text p", "color")["color"]
    return sheet, text


# --- what each option does -------------------------------------------------------------------------


def test_controls_are_shown_by_the_script_and_start_off(page: Page, live_server: LiveServer, sent_issue: str) -> None:
    _open_with_controls(page, live_server.at(f"/issues/{sent_issue}"))
    assert page.get_by_role("region", name="Change how this page looks").count() == 1
    for name in TOGGLES:
        expect(_button(page, name)).to_have_attribute("aria-pressed", "false")
    assert _button(page, "Print").get_attribute("aria-pressed") is None
    assert _colours(page) == (LIGHT_SHEET, LIGHT_TEXT)
    assert_accessible(page, "reader-controls-off", full_page=False)


def test_bigger_text(page: Page, live_server: LiveServer, sent_issue: str) -> None:
    _open_with_controls(page, live_server.at(f"/issues/{sent_issue}"))
    before = {sel: _px(_style(page, sel, "font-size")["font-size"]) for sel in ("h1", ".block-text p", ".site-footer")}
    _press(page, "Bigger text")
    after = {sel: _px(_style(page, sel, "font-size")["font-size"]) for sel in before}
    for sel in before:
        assert after[sel] >= before[sel] * 1.2, f"{sel}: {before[sel]}px became {after[sel]}px"
    assert "text-large" in _root_classes(page)
    assert_accessible(page, "reader-bigger-text-1280", full_page=False)
    page.set_viewport_size(NARROW)
    assert_no_horizontal_scroll(page, "bigger text at 320px")
    page.set_viewport_size(DESKTOP)
    _press(page, "Bigger text", pressed=False)
    assert _px(_style(page, ".block-text p", "font-size")["font-size"]) == before[".block-text p"]


def test_more_space_meets_wcag_text_spacing(page: Page, live_server: LiveServer, sent_issue: str) -> None:
    _open_with_controls(page, live_server.at(f"/issues/{sent_issue}"))
    names = ("font-size", "line-height", "letter-spacing", "word-spacing", "margin-bottom")
    before = _style(page, ".block-text p", *names)
    _press(page, "More space")
    after = _style(page, ".block-text p", *names)
    size = _px(after["font-size"])
    spacing = {name: _px(after[name]) for name in names[1:]}
    # WCAG 1.4.12: line height 1.5, paragraph spacing 2, letter spacing 0.12 and word spacing 0.16 times the size.
    assert spacing["line-height"] >= 1.5 * size and spacing["line-height"] > _px(before["line-height"])
    assert spacing["margin-bottom"] >= 2 * size - 0.5 and spacing["margin-bottom"] > _px(before["margin-bottom"])
    assert spacing["letter-spacing"] >= 0.12 * size - 0.01 and before["letter-spacing"] == "normal"
    assert spacing["word-spacing"] >= 0.16 * size - 0.01 and _px(before["word-spacing"]) == 0
    heading = _style(page, "h2", "font-size", "letter-spacing")
    # Headings are spaced by their own size, not the body's.
    assert _px(heading["letter-spacing"]) >= 0.12 * _px(heading["font-size"]) - 0.01
    assert_accessible(page, "reader-more-space-1280", full_page=False)
    page.set_viewport_size(NARROW)
    _press(page, "Bigger text")  # both together, on the narrowest screen
    assert_no_horizontal_scroll(page, "more space and bigger text at 320px")
    screenshot(page, "reader-more-space-bigger-text-320", full_page=False)


@pytest.mark.parametrize(
    ("buttons", "sheet", "text", "link", "name"),
    [
        (["Dark mode"], DARK_SHEET, DARK_TEXT, "rgb(156, 195, 255)", "reader-dark"),
        (["High contrast"], WHITE, BLACK, "rgb(0, 41, 122)", "reader-high-contrast"),
        (["High contrast", "Dark mode"], BLACK, WHITE, "rgb(255, 255, 0)", "reader-high-contrast-dark"),
    ],
)
def test_colour_modes_keep_contrast_and_focus(
    page: Page, live_server: LiveServer, sent_issue: str,
    buttons: list[str], sheet: str, text: str, link: str, name: str,
) -> None:
    _open_with_controls(page, live_server.at(f"/issues/{sent_issue}"))
    for button in buttons:
        _press(page, button)
    assert _colours(page) == (sheet, text)
    assert _style(page, ".block-text a", "color")["color"] == link
    assert_accessible(page, f"{name}-1280")
    page.set_viewport_size(PHONE)
    assert_accessible(page, f"{name}-375")
    page.set_viewport_size(DESKTOP)
    assert assert_focus_visible(page) >= 20  # every link and button, on the new colours


def test_archive_and_statement_share_the_options(page: Page, live_server: LiveServer, sent_issue: str) -> None:
    _open_with_controls(page, live_server.at("/issues/"))
    _press(page, "High contrast")
    _press(page, "Dark mode")
    assert _style(page, "main", "background-color")["background-color"] == BLACK
    assert_accessible(page, "archive-high-contrast-dark")
    _open_with_controls(page, live_server.at("/accessibility"))
    expect(_button(page, "High contrast")).to_have_attribute("aria-pressed", "true")
    assert _style(page, "main", "background-color")["background-color"] == BLACK
    assert_accessible(page, "accessibility-statement-high-contrast-dark", full_page=False)


# --- remembering, the keyboard, the device's own settings ----------------------------------------


def test_choices_survive_a_reload_and_carry_to_other_pages(
    page: Page, live_server: LiveServer, sent_issue: str
) -> None:
    url = live_server.at(f"/issues/{sent_issue}")
    _open_with_controls(page, url)
    _press(page, "Bigger text")
    _press(page, "Dark mode")
    page.reload(wait_until="load")
    expect(page.locator(".reader-controls")).to_be_visible()
    for name in TOGGLES:
        pressed = "true" if name in ("Bigger text", "Dark mode") else "false"
        expect(_button(page, name)).to_have_attribute("aria-pressed", pressed)
    assert {"text-large", "theme-dark"} <= _root_classes(page)
    assert _colours(page) == (DARK_SHEET, DARK_TEXT)

    _open_with_controls(page, live_server.at("/issues/"))
    expect(_button(page, "Dark mode")).to_have_attribute("aria-pressed", "true")
    assert _px(_style(page, "h1", "font-size")["font-size"]) >= 40 * 1.2

    _press(page, "Bigger text", pressed=False)
    _press(page, "Dark mode", pressed=False)
    _open_with_controls(page, url)
    for name in TOGGLES:
        expect(_button(page, name)).to_have_attribute("aria-pressed", "false")
    assert _colours(page) == (LIGHT_SHEET, LIGHT_TEXT)


def test_keyboard_only(page: Page, live_server: LiveServer, sent_issue: str) -> None:
    _open_with_controls(page, live_server.at(f"/issues/{sent_issue}"))
    order = []
    for _ in range(7):
        page.keyboard.press("Tab")
        order.append(page.evaluate("() => document.activeElement.textContent.trim()"))
    assert order == ["Skip to main content", "News for SEND families", *TOGGLES, "Print"]

    page.keyboard.press("Shift+Tab")  # back to Dark mode
    page.keyboard.press("Shift+Tab")  # High contrast
    page.keyboard.press("Space")
    expect(_button(page, "High contrast")).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("Shift+Tab")  # More space
    page.keyboard.press("Enter")
    expect(_button(page, "More space")).to_have_attribute("aria-pressed", "true")
    assert page.evaluate("() => document.activeElement.textContent.trim()") == "More space", "focus stays on the button"
    _settled(page)
    focused = _style(
        page, ".reader-button:focus-visible", "outline-style", "outline-width", "background-color", "color"
    )
    assert focused["outline-style"] == "solid" and _px(focused["outline-width"]) >= 3
    assert (focused["background-color"], focused["color"]) == ("rgb(255, 221, 0)", BLACK)
    screenshot(page, "reader-keyboard-focus-high-contrast", full_page=False)
    page.keyboard.press("Space")
    expect(_button(page, "More space")).to_have_attribute("aria-pressed", "false")
    assert "spacing-wide" not in _root_classes(page)


def test_device_settings_are_the_defaults_until_the_reader_chooses(
    page: Page, live_server: LiveServer, sent_issue: str
) -> None:
    page.emulate_media(color_scheme="dark", contrast="more")
    url = live_server.at(f"/issues/{sent_issue}")
    _open_with_controls(page, url)
    expect(_button(page, "Dark mode")).to_have_attribute("aria-pressed", "true")
    expect(_button(page, "High contrast")).to_have_attribute("aria-pressed", "true")
    assert _colours(page) == (BLACK, WHITE)
    _press(page, "High contrast", pressed=False)  # the reader's choice beats the device's
    assert _colours(page) == (DARK_SHEET, DARK_TEXT)
    _press(page, "Dark mode", pressed=False)
    assert "theme-light" in _root_classes(page)
    assert _colours(page) == (LIGHT_SHEET, LIGHT_TEXT)
    page.reload(wait_until="load")
    expect(page.locator(".reader-controls")).to_be_visible()
    for name in TOGGLES:
        expect(_button(page, name)).to_have_attribute("aria-pressed", "false")
    assert _colours(page) == (LIGHT_SHEET, LIGHT_TEXT)


def test_reduced_motion_turns_the_fade_off(page: Page, live_server: LiveServer, sent_issue: str) -> None:
    page.emulate_media(reduced_motion="no-preference")
    _open_with_controls(page, live_server.at(f"/issues/{sent_issue}"))
    assert set(_style(page, ".reader-button", "transition-duration")["transition-duration"].split(", ")) != {"0s"}
    page.emulate_media(reduced_motion="reduce")
    assert set(_style(page, ".reader-button", "transition-duration")["transition-duration"].split(", ")) == {"0s"}


@pytest.fixture
def page_without_script(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=DESKTOP, locale="en-GB", java_script_enabled=False, color_scheme="dark")
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield watch(context.new_page())
    finally:
        context.close()


def test_without_script_the_page_is_complete_and_follows_the_device(
    page_without_script: Page, live_server: LiveServer, sent_issue: str
) -> None:
    page = page_without_script
    _open(page, live_server.at(f"/issues/{sent_issue}"))
    assert page.locator(".reader-controls").is_hidden(), "buttons that cannot work are not shown"
    assert page.locator("h1").is_visible() and page.locator(".story").count() >= 1
    assert _colours(page) == (DARK_SHEET, DARK_TEXT), "the device's dark setting applies with CSS alone"
    screenshot(page, "reader-no-script-device-dark", full_page=False)


# --- print ----------------------------------------------------------------------------------------


def test_print_layout(page: Page, live_server: LiveServer, sent_issue: str) -> None:
    _open_with_controls(page, live_server.at(f"/issues/{sent_issue}"))
    _press(page, "High contrast")
    _press(page, "Dark mode")  # chosen on screen, but paper gets black on white
    page.evaluate("() => { window.printed = 0; window.print = () => { window.printed += 1; }; }")
    _button(page, "Print").click()
    page.wait_for_function("() => window.printed === 1")

    page.emulate_media(media="print")
    for selector in (".reader-controls", ".site-header", ".site-footer", ".skip-link"):
        assert page.locator(selector).is_hidden(), f"{selector} should not be printed"
    assert _style(page, "main", "background-color")["background-color"] == WHITE
    assert _style(page, ".block-text p", "color")["color"] == BLACK
    link = page.locator("main a[href^='https://']").first
    href = link.get_attribute("href")
    after = link.evaluate("el => getComputedStyle(el, '::after').content")
    assert href and href in after, f"the printed link should show its address, got {after!r}"
    assert _style(page, ".story", "break-inside")["break-inside"] == "avoid"
    assert _style(page, ".block-button .button", "color")["color"] == BLACK, "white on a background that is not printed"
    screenshot(page, "reader-print")


# --- the accessibility statement -----------------------------------------------------------------


def test_accessibility_statement_is_in_every_footer_and_passes_axe(
    page: Page, live_server: LiveServer, sent_issue: str
) -> None:
    _open_with_controls(page, live_server.at(f"/issues/{sent_issue}"))
    page.locator("footer").get_by_role("link", name="Accessibility statement").click()
    page.wait_for_url("**/accessibility")
    assert page.locator("h1").inner_text() == "Accessibility statement for News for SEND families"
    expect(page.locator(".reader-controls")).to_be_visible()
    assert_accessible(page, "accessibility-statement-1280")
    page.set_viewport_size(PHONE)
    assert_accessible(page, "accessibility-statement-375", full_page=False)
    page.set_viewport_size(NARROW)
    assert_no_horizontal_scroll(page, "accessibility statement at 320px")

    _open_with_controls(page, live_server.at("/issues/"))
    page.locator("footer").get_by_role("link", name="Accessibility statement").click()
    page.wait_for_url("**/accessibility")
