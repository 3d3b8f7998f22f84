"""The subscriber pages in a real browser: WCAG 2.2 AA (axe-core), reflow at 320px, focus, the CSP.

Uses the browser harness in tests/browser/conftest.py (Debian's chromium, the app under waitress),
whose fixtures are imported here; like the rest of the browser tests, SQLite only.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from newsletter.db import session_scope
from subscribers import links, membership, store
from subscribers.models import ConsentSource
from tests.browser.conftest import (  # noqa: F401  (fixtures)
    LiveServer,
    _serving,
    assert_accessible,
    assert_focus_visible,
    assert_no_horizontal_scroll,
    browser,
    db,
    live_server,
    page,
    playwright,
    settings,
)
from tests.subscribers.conftest import Lists

pytestmark = pytest.mark.browser

NARROW = {"width": 320, "height": 640}


def _open(page: Page, url: str, status: int = 200) -> None:  # noqa: F811
    response = page.goto(url, wait_until="load")
    assert response is not None and response.status == status, f"{url} answered {response and response.status}"


def test_subscribe_form_errors_and_answer(page: Page, live_server: LiveServer, lists: Lists) -> None:  # noqa: F811
    _open(page, live_server.at("/subscribe"))
    assert_accessible(page, "subscribe-form-1280")
    assert_focus_visible(page)
    page.set_viewport_size(NARROW)
    assert_no_horizontal_scroll(page, "subscribe form at 320px")
    assert_accessible(page, "subscribe-form-320")

    page.get_by_label("Email address").fill("not an address")
    page.get_by_role("button", name="Subscribe").click()
    page.wait_for_load_state("load")
    summary = page.locator("[data-error-summary]")
    assert summary.is_visible()
    page.wait_for_function("() => document.activeElement && document.activeElement.matches('[data-error-summary]')")
    assert page.title().startswith("Error: ")
    assert_accessible(page, "subscribe-form-errors-320")
    page.get_by_role("link", name="Enter an email address in the correct format, like name@example.com").click()
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'email'")

    page.get_by_label("Email address").fill("jo@example.org")
    page.get_by_label("Short breaks and activities").check()
    page.get_by_role("button", name="Subscribe").click()
    page.get_by_role("heading", name="Check your email").wait_for()
    assert_accessible(page, "subscribe-check-email")


def test_preference_centre_unsubscribe_and_erase_pages(page: Page, live_server: LiveServer, lists: Lists) -> None:  # noqa: F811
    config = live_server.settings
    with session_scope() as session:
        person, _ = store.get_or_create_subscriber(session, "jo@example.org", "Jo")
        membership.add_confirmed(session, person, store.lists_by_id(session, [lists.news])[0],
                                 source=ConsentSource.ADMIN, wording="x")
        prefs, unsubscribe = links.preferences_url(config, person), links.unsubscribe_url(config, person, [lists.news])

    _open(page, prefs)
    assert page.get_by_label("SEND newsletter").is_checked()
    assert not page.get_by_label("Short breaks and activities").is_checked()
    assert_accessible(page, "preferences-1280")
    page.set_viewport_size(NARROW)
    assert_no_horizontal_scroll(page, "preference centre at 320px")
    page.get_by_label("Short breaks and activities").check()
    page.get_by_role("button", name="Save my choices").click()
    page.get_by_role("heading", name="Your choices are saved").wait_for()
    assert_accessible(page, "preferences-saved-320")

    _open(page, prefs + "/erase")
    assert_accessible(page, "erase-confirm")

    _open(page, unsubscribe)
    assert_accessible(page, "unsubscribe-page")
    page.get_by_role("button", name="Unsubscribe").click()
    page.get_by_role("heading", name="You have unsubscribed").wait_for()
    assert_accessible(page, "unsubscribed")

    _open(page, live_server.at("/p/not-a-token"), status=400)
    assert_accessible(page, "bad-link")
