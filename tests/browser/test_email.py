"""The email in a real browser: WCAG 2.2 AA (axe-core) and no sideways scrolling on a phone.

A browser is not a mail client, but it is the closest stand-in a test can run: the HTML is what the
reader's app gets, images load from the live server, and removing every <style> element shows
the layout a client that strips them (some webmail and older Gmail apps) falls back to.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from newsletter.db import session_scope
from newsletter.issues import service, store
from newsletter.render.pipeline import RenderedIssue
from newsletter.theme import get_theme

from tests.browser.conftest import LiveServer, assert_accessible, assert_no_horizontal_scroll

pytestmark = pytest.mark.browser

NARROW = {"width": 320, "height": 640}


@pytest.fixture
def rendered(live_server: LiveServer, example_issue: str) -> RenderedIssue:
    with session_scope() as session:
        return service.rendered(store.get_issue(session, example_issue), get_theme(), live_server.settings)


def _load(page: Page, html: str, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 800})
    page.set_content(html, wait_until="load")


def test_email_passes_axe_at_desktop_and_phone_widths(page: Page, rendered: RenderedIssue) -> None:
    _load(page, rendered.html.public, 700)
    assert page.locator("h1").count() == 1
    assert_accessible(page, "email-700")
    _load(page, rendered.html.public, 375)
    assert_accessible(page, "email-375")


def test_email_does_not_scroll_sideways_at_320px(page: Page, rendered: RenderedIssue) -> None:
    _load(page, rendered.html.public, NARROW["width"])
    assert_no_horizontal_scroll(page, "email at 320px")


def test_email_without_style_elements_at_320px(page: Page, rendered: RenderedIssue) -> None:
    _load(page, rendered.html.public, NARROW["width"])
    removed = page.evaluate(
        "() => { const all = document.querySelectorAll('style'); all.forEach(s => s.remove()); return all.length; }"
    )
    assert removed > 0
    page.wait_for_function("() => document.querySelectorAll('style').length === 0")
    assert_no_horizontal_scroll(page, "email at 320px with <style> removed")
    assert_accessible(page, "email-320-no-style")  # inline styles alone must still give contrast and target sizes


def test_email_in_dark_mode_keeps_contrast(page: Page, rendered: RenderedIssue) -> None:
    """Mail apps that honour prefers-color-scheme get the email's own dark styles, and they pass axe."""
    page.emulate_media(color_scheme="dark")
    _load(page, rendered.html.public, 700)
    colours = page.evaluate("""() => {
        const style = el => getComputedStyle(el);
        const button = document.querySelector('.nl-button a');
        return {
            page: style(document.querySelector('.nl-body')).backgroundColor,
            heading: style(document.querySelector('h1')).color,
            link: style(document.querySelector('.nl-body p a:not(.nl-button a)') || document.querySelector('a')).color,
            button: button ? [style(button).color, style(button).backgroundColor] : null,
        };
    }""")
    assert colours["page"] == "rgb(18, 18, 18)" and colours["heading"] == "rgb(236, 236, 236)", colours
    accent = get_theme().accent_colour.lstrip("#")
    # Buttons keep the theme's own colours in dark mode (its pair already meets 4.5:1).
    assert colours["button"] == ["rgb(255, 255, 255)", "rgb({}, {}, {})".format(
        *(int(accent[i:i + 2], 16) for i in (0, 2, 4)))], colours
    assert_accessible(page, "email-dark-700")
    _load(page, rendered.html.public, 375)
    assert_accessible(page, "email-dark-375")
