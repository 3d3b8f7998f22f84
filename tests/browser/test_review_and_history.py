"""A parent reviewing on a phone (320 px, keyboard), the team's review links and the version history, in Chromium.

What a parent sees is counted: after sending a comment the thank-you is on screen and has focus; after a
mistake the error is on screen, at the top, with focus, and its link puts the cursor in the box that
still holds their words. With JavaScript off the same holds through the page's own anchors. axe-core
checks each state at 320 px and 1280 px.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from newsletter.accounts import service as accounts
from newsletter.accounts.models import Role
from newsletter.db import session_scope
from newsletter.issues import editing, store
from newsletter.issues.blocks import IssueDocument
from newsletter.review import service as review_service
from tests.browser.conftest import DESKTOP, TEAM_PASSWORD, LiveServer, assert_accessible, sign_in, watch

pytestmark = pytest.mark.browser

PHONE = {"width": 320, "height": 640}


@pytest.fixture
def issue(live_server: LiveServer) -> tuple[str, str]:
    """A draft of eight parts (so the whole-issue box is far down the page) and a review link; (slug, link)."""
    with session_scope() as session:
        author = accounts.create_user(session, "ed@example.org", "Ed Editor", TEAM_PASSWORD, Role.EDITOR)
        accounts.create_user(session, "ann@example.org", "Ann Approver", TEAM_PASSWORD, Role.APPROVER)
        issue = store.create_issue(session, IssueDocument(title="Summer news", subject="Summer news"))
        issue.created_by_id = author.id
        for n in range(1, 5):
            editing.add_block(issue, {"type": "heading", "text": f"Section {n}", "level": 2})
            editing.add_block(issue, {"type": "text", "markdown": "Families told us what works. " * 12})
        url = review_service.create_link(session, issue, "Parent Carer Forum", author.id, live_server.settings)
        return issue.slug, url


def _phone(browser: Browser, *, javascript: bool = True) -> Iterator[Page]:
    context = browser.new_context(viewport=PHONE, locale="en-GB", java_script_enabled=javascript,
                                  timezone_id="Europe/London")
    try:
        yield watch(context.new_page())
    finally:
        context.close()


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    yield from _phone(browser)


@pytest.fixture
def phone_without_js(browser: Browser) -> Iterator[Page]:
    yield from _phone(browser, javascript=False)


def _open_whole_issue_box(page: Page) -> None:
    summary = page.locator("#general summary")
    summary.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_label("Your comment").last).to_be_visible()


def test_a_parent_on_a_phone_sends_a_comment_without_a_name_by_keyboard(phone: Page, issue: tuple[str, str]) -> None:
    page = phone
    page.goto(issue[1])
    assert_accessible(page, "review-phone")
    # From the top of the page: the skip link, the masthead's link, then the way to the whole-issue box.
    presses = 0
    while presses < 5:
        page.keyboard.press("Tab")
        presses += 1
        if page.evaluate("document.activeElement.textContent").startswith("Go to the box for comments"):
            break
    assert presses <= 3, f"{presses} key presses to reach the whole-issue comment box"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    expect(page.locator("#general summary")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#author-general")).to_have_accessible_name("Your name (optional)")
    page.keyboard.press("Tab")  # the name: left empty
    page.keyboard.press("Tab")
    expect(page.locator("#body-general")).to_be_focused()
    page.keyboard.type("Please say when the summer activities start.")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    thanks = page.locator("#sent-general")
    expect(thanks).to_be_focused()
    expect(thanks).to_be_in_viewport()
    expect(thanks).to_contain_text("Thank you. Your comment has been sent to the team.")
    expect(thanks).to_contain_text("Please say when the summer activities start.")
    expect(page.get_by_role("status").filter(has_text="your comment was sent")).to_have_count(1)
    assert_accessible(page, "review-phone-after-comment")


def test_a_parent_on_a_phone_sees_a_mistake_at_the_top_and_keeps_their_words(phone: Page,
                                                                              issue: tuple[str, str]) -> None:
    page = phone
    page.goto(issue[1])
    _open_whole_issue_box(page)
    page.locator("#author-general").fill("Priya")
    page.locator("#body-general").fill("x" * (review_service.MAX_COMMENT + 10))
    page.locator("#general").get_by_role("button", name="Send comment").click()
    summary = page.get_by_role("alert").filter(has_text="Your comment was not sent")
    expect(summary).to_be_focused()
    expect(summary).to_be_in_viewport()
    assert page.title().startswith("Error: ")
    assert_accessible(page, "review-phone-error")
    summary.get_by_role("link").focus()
    page.keyboard.press("Enter")
    body = page.locator("#body-general")
    expect(body).to_be_focused()
    expect(body).to_have_value("x" * (review_service.MAX_COMMENT + 10))
    expect(page.locator("#author-general")).to_have_value("Priya")
    body.fill("A shorter comment.")
    page.locator("#general").get_by_role("button", name="Send comment").click()
    expect(page.locator("#sent-general")).to_be_focused()


def test_without_javascript_the_thank_you_and_the_error_are_where_the_page_opens(
        phone_without_js: Page, issue: tuple[str, str]) -> None:
    page = phone_without_js
    page.goto(issue[1])
    page.locator("#general summary").click()
    page.locator("#body-general").fill("Sent with JavaScript off.")
    page.locator("#general").get_by_role("button", name="Send comment").click()
    expect(page.locator("#sent-general")).to_be_in_viewport()
    expect(page.locator(".review-banner")).to_contain_text("your comment was sent")
    page.locator("#body-general").fill("   ")
    page.locator("#general").get_by_role("button", name="Send comment").click()
    expect(page.locator(".review-error-summary")).to_be_in_viewport()
    expect(page.locator(".review-error-summary")).to_contain_text("Write your comment in the box")


def test_the_review_page_at_desktop_width(page: Page, issue: tuple[str, str]) -> None:
    page.goto(issue[1])
    assert_accessible(page, "review-desktop", full_page=False)
    page.locator("#general summary").click()
    page.locator("#general").get_by_role("button", name="Send comment").click()
    expect(page.get_by_role("alert").filter(has_text="Your comment was not sent")).to_be_focused()
    assert_accessible(page, "review-desktop-error", full_page=False)


def test_the_team_copies_an_active_link_by_keyboard(browser: Browser, live_server: LiveServer,
                                                    issue: tuple[str, str]) -> None:
    context = browser.new_context(viewport=DESKTOP, locale="en-GB", timezone_id="Europe/London")
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = watch(context.new_page())
    try:
        sign_in(page, live_server, "ed@example.org")
        page.goto(live_server.at(f"/team/issues/{issue[0]}#review"))
        field = page.get_by_label("Link for Parent Carer Forum")
        expect(field).to_have_value(issue[1])
        copy = page.get_by_role("button", name="Copy the link for Parent Carer Forum")
        copy.focus()
        page.keyboard.press("Enter")
        expect(page.locator("[data-copy-status-for]").first).to_have_text("Copied")
        assert page.evaluate("navigator.clipboard.readText()") == issue[1]
    finally:
        context.close()


def test_submitting_with_an_unresolved_comment_asks_first(page: Page, live_server: LiveServer,
                                                          issue: tuple[str, str]) -> None:
    page.goto(issue[1])
    page.locator("#general summary").click()
    page.locator("#body-general").fill("One thing to fix.")
    page.locator("#general").get_by_role("button", name="Send comment").click()
    sign_in(page, live_server, "ed@example.org")
    page.goto(live_server.at(f"/team/issues/{issue[0]}"))
    submit = page.get_by_role("button", name="Submit for approval")
    submit.scroll_into_view_if_needed()
    submit.click()
    warning = page.get_by_role("alert").filter(has_text="1 review comment not resolved yet")
    expect(warning).to_be_focused()
    assert_accessible(page, "composer-submit-unresolved")
    page.get_by_role("button", name="Submit for approval anyway").click()
    expect(page.locator(".caption .tag")).to_have_text("In review")


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["320", "1280"])
def test_history_and_a_version_are_accessible(browser: Browser, live_server: LiveServer, issue: tuple[str, str],
                                              viewport: dict[str, int]) -> None:
    context = browser.new_context(viewport=viewport, locale="en-GB", timezone_id="Europe/London")
    page = watch(context.new_page())
    try:
        sign_in(page, live_server, "ed@example.org")
        with session_scope() as session:
            found = store.get_issue(session, issue[0])
            block = dict(found.blocks[1], markdown="A changed paragraph.")
            editing.replace_block(found, editing.keys_of(found)[1], block)
        page.goto(live_server.at(f"/team/issues/{issue[0]}/history"))
        expect(page.get_by_role("heading", level=1)).to_have_text("History of Summer news")
        assert_accessible(page, f"history-{viewport['width']}")
        page.get_by_role("link", name="Version 2").click()  # the oldest of the later saves: restorable
        expect(page.get_by_role("button", name="Restore this version (version 2)")).to_be_visible()
        assert_accessible(page, f"version-{viewport['width']}")
    finally:
        context.close()


def test_autosave_keeps_typing_and_offers_it_back(page: Page, live_server: LiveServer, issue: tuple[str, str]) -> None:
    sign_in(page, live_server, "ed@example.org")
    with session_scope() as session:
        key = editing.keys_of(store.get_issue(session, issue[0]))[0]
    page.goto(live_server.at(f"/team/issues/{issue[0]}/blocks/{key}"))
    field = page.get_by_label("Heading text", exact=False).first
    field.fill("Section one, typed but not saved")
    status = page.locator(".autosave-status")
    expect(status).to_contain_text("Saved as a draft at")
    page.goto(live_server.at(f"/team/issues/{issue[0]}/blocks/{key}"))
    carry_on = page.get_by_role("button", name="Carry on where you left off", exact=False)
    expect(carry_on).to_be_visible()
    expect(page.get_by_role("button", name="Put my unsaved text back")).to_have_count(0)
    assert_accessible(page, "block-form-draft-offer", full_page=False)
    carry_on.click()
    expect(page.get_by_label("Heading text", exact=False).first).to_have_value("Section one, typed but not saved")
    with session_scope() as session:
        assert store.get_issue(session, issue[0]).blocks[0]["text"] == "Section 1", "the issue is unchanged"
