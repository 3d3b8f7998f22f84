"""The feedback and poll pages in a real browser at 320 px: axe-clean, no sideways scrolling, and a family's
journey from the link to the thank-you, changing their answer, and a closed poll's results on the web view."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from newsletter.config import Settings
from newsletter.db import session_scope
from newsletter.issues.models import Issue
from newsletter.listening import store

from tests.browser.conftest import LiveServer, assert_accessible, assert_no_horizontal_scroll
from tests.listening.conftest import make_issue, reader_links

pytestmark = pytest.mark.browser

NARROW = {"width": 320, "height": 640}


def _counts(issue_id: int) -> dict[str, int]:
    with session_scope() as session:
        return store.feedback_counts(session, issue_id)


def test_feedback_page_at_320px_and_changing_the_answer(page: Page, live_server: LiveServer, db: Settings) -> None:
    issue_id = make_issue()
    links = reader_links(db)
    page.set_viewport_size(NARROW)
    page.goto(links.not_useful)
    expect(page.get_by_label("No, it was not useful")).to_be_checked()
    assert_no_horizontal_scroll(page, "feedback page")
    assert_accessible(page, "feedback-page-320")
    assert _counts(issue_id)["not_useful"] == 0, "opening the page counts nothing"
    # A comment that is too long comes back with the reason, focus on the summary, and every word kept.
    page.get_by_label("Anything you would like to tell the team? (optional)").fill("long words " * 200)
    page.get_by_role("button", name="Send my answer").click()
    # The page's script moves focus once it has loaded: wait for it as a screen reader user would hear it.
    expect(page.locator(".error-summary")).to_be_focused()
    expect(page.get_by_label("Anything you would like to tell the team? (optional)")).to_have_value(
        ("long words " * 200).strip())
    assert_accessible(page, "feedback-page-error-320")
    page.get_by_label("Anything you would like to tell the team? (optional)").fill("The dates were clear.")
    page.get_by_role("button", name="Send my answer").click()
    expect(page.get_by_role("heading", name="Your answer is counted")).to_be_visible()
    assert_accessible(page, "feedback-sent-320")
    assert _counts(issue_id) == {"useful": 0, "not_useful": 1, "comments": 1}
    # The same browser changes its mind: the count moves.
    page.get_by_role("link", name="Change your answer").click()
    page.get_by_label("Yes, it was useful").check()
    page.get_by_role("button", name="Send my answer").click()
    expect(page.get_by_role("heading", name="Your answer is counted")).to_be_visible()
    assert _counts(issue_id) == {"useful": 1, "not_useful": 0, "comments": 1}


def test_poll_page_at_320px(page: Page, live_server: LiveServer, db: Settings) -> None:
    issue_id = make_issue()
    links = reader_links(db)
    page.set_viewport_size(NARROW)
    page.goto(links.poll[2])
    expect(page.get_by_role("radio", name="Something else")).to_be_checked()
    assert_no_horizontal_scroll(page, "poll page")
    assert_accessible(page, "poll-page-320")
    page.get_by_label("If something else, what?").fill("Saturday mornings")
    page.get_by_role("button", name="Send my answer").click()
    expect(page.get_by_text("You answered: Something else")).to_be_visible()
    with session_scope() as session:
        assert store.poll_results(session, issue_id)[0]["results"]["Something else"] == 1


def test_closed_poll_page_and_its_results_on_the_web_view_at_320px(page: Page, live_server: LiveServer,
                                                                   db: Settings) -> None:
    issue_id = make_issue()
    links = reader_links(db)
    with session_scope() as session:
        key = store.poll_key(session.get(Issue, issue_id), 2)
        for n, choice in enumerate([0, 1, 1]):
            store.record_poll_answer(session, issue_id, key, store.browser_hash(f"b{n}"), choice)
    page.set_viewport_size(NARROW)
    page.goto(links.closed_poll[0])
    expect(page.get_by_text("so it takes no more answers")).to_be_visible()
    assert_accessible(page, "poll-closed-320")
    page.goto(live_server.at("/issues/summer-news"))
    table = page.get_by_role("table", name="What families said: 3 answers")
    expect(table).to_be_visible()
    assert_no_horizontal_scroll(page, "web view with poll results")
    assert_accessible(page, "web-view-poll-results-320")
