"""The public pages in a real browser: WCAG 2.2 AA (axe-core), reflow, zoom, keyboard and the CSP.

Families read these on phones, with zoom and with screen readers, so each page is checked the way
they meet it, and a screenshot of each is kept in test-artifacts/screenshots/ for people to look at.
Every page is also watched (the `page` fixture) for Content-Security-Policy violations: the app sends
`style-src 'self'`, so a `style=` attribute in a template would be blocked, and fails the test.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from newsletter.db import session_scope
from newsletter.issues import store
from newsletter.issues.models import IssueStatus
from newsletter.tokens import sign
from newsletter.web.public import PREVIEW_PURPOSE

from tests.browser.conftest import (
    LiveServer,
    apply_text_spacing,
    assert_accessible,
    assert_focus_visible,
    assert_no_horizontal_scroll,
    screenshot,
    set_text_size,
)

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 812}
NARROW = {"width": 320, "height": 640}  # WCAG 1.4.10: 1280px at 400% zoom
ZOOM_200 = {"width": 640, "height": 400}  # 1280x800 at 200% zoom


def _send(slug: str) -> None:
    with session_scope() as session:
        issue = store.get_issue(session, slug)
        for state in (IssueStatus.IN_REVIEW, IssueStatus.APPROVED, IssueStatus.SENDING, IssueStatus.SENT):
            store.move(issue, state)


@pytest.fixture
def sent_issue(example_issue: str) -> str:
    _send(example_issue)
    return example_issue


def _open(page: Page, url: str, status: int = 200) -> None:
    response = page.goto(url, wait_until="load")
    assert response is not None and response.status == status, f"{url} answered {response and response.status}"


def test_web_view_of_a_sent_issue(page: Page, live_server: LiveServer, sent_issue: str) -> None:
    _open(page, live_server.at(f"/issues/{sent_issue}"))
    assert page.locator("h1").inner_text().startswith("News for SEND families")
    assert_accessible(page, "web-view-1280")
    page.set_viewport_size(PHONE)
    assert_accessible(page, "web-view-375")


def test_web_view_reflows_at_320px_and_200_percent_zoom(page: Page, live_server: LiveServer, sent_issue: str) -> None:
    _open(page, live_server.at(f"/issues/{sent_issue}"))
    page.set_viewport_size(NARROW)
    assert_no_horizontal_scroll(page, "web view at 320px")
    page.set_viewport_size(ZOOM_200)
    assert_no_horizontal_scroll(page, "web view at 640px (200% zoom)")
    set_text_size(page, 200)  # and text-only zoom on top, as a reader's text size setting does it
    assert_no_horizontal_scroll(page, "web view at 640px with 200% text")
    screenshot(page, "web-view-640-text-200", full_page=False)
    page.set_viewport_size(NARROW)
    assert_no_horizontal_scroll(page, "web view at 320px with 200% text")


def test_web_view_reflows_with_wcag_text_spacing(page: Page, live_server: LiveServer, sent_issue: str) -> None:
    _open(page, live_server.at(f"/issues/{sent_issue}"))
    page.set_viewport_size(NARROW)
    apply_text_spacing(page)
    assert_no_horizontal_scroll(page, "web view at 320px with WCAG 1.4.12 text spacing")


def test_skip_link_is_first_and_moves_focus_to_main(page: Page, live_server: LiveServer, sent_issue: str) -> None:
    _open(page, live_server.at(f"/issues/{sent_issue}"))
    page.keyboard.press("Tab")
    skip = page.locator(":focus")
    assert skip.get_attribute("class") == "skip-link" and skip.inner_text() == "Skip to main content"
    box = skip.bounding_box()
    assert box is not None and box["x"] >= 0 and box["y"] >= 0, "the skip link must be on screen when focused"
    screenshot(page, "web-view-skip-link-focused", full_page=False)
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'main'")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.getElementById('main').contains(document.activeElement)"), (
        "after the skip link, Tab should go to the first link inside the main content"
    )


def test_every_link_and_button_shows_focus(page: Page, live_server: LiveServer, sent_issue: str) -> None:
    _open(page, live_server.at(f"/issues/{sent_issue}"))
    assert assert_focus_visible(page) >= 20
    _open(page, live_server.at("/issues/"))
    assert assert_focus_visible(page) >= 3  # the search field and button too


def test_archive_with_and_without_search_results(page: Page, live_server: LiveServer, sent_issue: str) -> None:
    _open(page, live_server.at("/issues/"))
    assert page.get_by_role("link", name="News for SEND families: Co-production Week 2026").count() == 1
    assert_accessible(page, "archive")
    page.set_viewport_size(NARROW)
    assert_no_horizontal_scroll(page, "archive at 320px")

    page.set_viewport_size({"width": 1280, "height": 800})
    page.get_by_label("Search issues").fill("co-production")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url("**/issues/?q=co-production")
    assert page.get_by_role("link", name="News for SEND families: Co-production Week 2026").count() == 1
    assert_accessible(page, "archive-search-found")

    _open(page, live_server.at("/issues/?q=zebras"))
    assert page.get_by_role("heading", level=2).count() == 0
    assert "zebras" in page.locator("main").inner_text()
    assert_accessible(page, "archive-search-none")


def test_empty_archive(page: Page, live_server: LiveServer) -> None:
    _open(page, live_server.at("/issues/"))
    assert "No issues have been sent yet" in page.locator("main").inner_text()
    assert_accessible(page, "archive-empty")


def test_signed_preview_of_a_draft(page: Page, live_server: LiveServer, example_issue: str) -> None:
    _open(page, live_server.at(f"/preview/{sign(PREVIEW_PURPOSE, example_issue)}"))
    assert page.locator("h1").inner_text().startswith("News for SEND families")
    assert_accessible(page, "preview", full_page=False)  # the web view's template, pictured in full above


def test_not_found_page(page: Page, live_server: LiveServer, example_issue: str) -> None:
    _open(page, live_server.at(f"/issues/{example_issue}"), status=404)  # a draft is not public
    assert page.locator("h1").inner_text() == "Page not found"
    assert_accessible(page, "not-found")
    page.set_viewport_size(NARROW)
    assert_no_horizontal_scroll(page, "404 page at 320px")


def test_bad_preview_link_page(page: Page, live_server: LiveServer, example_issue: str) -> None:
    token = sign(PREVIEW_PURPOSE, example_issue)
    _open(page, live_server.at(f"/preview/{token[:-3]}abc"), status=400)
    assert "This link is not valid" in page.locator("main").inner_text()
    assert_accessible(page, "bad-preview-link")
