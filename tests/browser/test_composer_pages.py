"""Composer details the journey test does not reach: drag-and-drop order, error states, locked pages."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from newsletter.accounts import service
from newsletter.accounts.models import Role
from newsletter.db import session_scope
from newsletter.issues import editing, store
from newsletter.issues.blocks import IssueDocument

from tests.browser.conftest import DESKTOP, TEAM_PASSWORD, LiveServer, assert_accessible, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def draft(live_server: LiveServer) -> str:
    with session_scope() as session:
        author = service.create_user(session, "ed@example.org", "Ed Editor", TEAM_PASSWORD, Role.EDITOR)
        issue = store.create_issue(session, IssueDocument(title="Spring news", subject="Spring news"))
        issue.created_by_id = author.id
        for n in range(1, 4):
            editing.add_block(issue, {"type": "heading", "text": f"Section {n}", "level": 2})
        return issue.slug


def _order(page: Page) -> list[str]:
    return page.locator("ol.blocks .block-summary").all_inner_texts()


def _stored_order(slug: str) -> list[str]:
    with session_scope() as session:
        return [block["text"] for block in store.get_issue(session, slug).blocks]


def test_drag_a_block_by_its_handle_moves_it_in_place(page: Page, live_server: LiveServer, draft: str) -> None:
    """A drop moves the block without loading the page, also for cards that arrived after an earlier change."""
    sign_in(page, live_server, "ed@example.org")
    page.goto(live_server.at(f"/team/issues/{draft}"))
    page.wait_for_load_state("networkidle")
    assert _order(page) == ["Section 1", "Section 2", "Section 3"]
    loads: list[str] = []
    page.on("framenavigated", lambda frame: loads.append(frame.url) if frame == page.main_frame else None)
    cards = page.locator("#block-list > li.block-card")
    moved = cards.nth(2).get_attribute("data-key")

    cards.nth(2).locator(".drag-handle").drag_to(cards.nth(0))
    expect(page.locator("#editor-status")).to_contain_text("Moved the block to position 1.")
    assert _order(page) == ["Section 3", "Section 1", "Section 2"]
    assert _stored_order(draft) == ["Section 3", "Section 1", "Section 2"]
    expect(page.locator(f"#block-{moved}")).to_be_focused()  # in view, and a screen reader hears where it went

    # The list was replaced by the server's answer: its new cards drag too, after a drag and after a Move button.
    cards.nth(1).get_by_role("button", name=re.compile("^Move down")).click()
    expect(page.locator("#editor-status")).to_contain_text("Moved the block to position 3.")
    assert _order(page) == ["Section 3", "Section 2", "Section 1"]
    last = cards.nth(2).bounding_box()
    assert last is not None
    cards.nth(0).locator(".drag-handle").drag_to(cards.nth(2), target_position={"x": 20, "y": last["height"] - 4})
    expect(page.locator("ol.blocks .block-summary").last).to_have_text("Section 3")
    assert _order(page) == ["Section 2", "Section 1", "Section 3"]
    assert _stored_order(draft) == ["Section 2", "Section 1", "Section 3"]
    expect(page.locator("#editor-status")).to_contain_text("Moved the block to position 3.")
    cards.nth(1).locator(".drag-handle").drag_to(cards.nth(0))
    expect(page.locator("ol.blocks .block-summary").first).to_have_text("Section 1")
    assert _stored_order(draft) == ["Section 1", "Section 2", "Section 3"]
    assert loads == [], f"dragging loaded the page: {loads}"
    assert page.locator("li.block-card[draggable=true]").count() == 0


def test_a_drop_the_server_cannot_take_says_so_and_keeps_the_order(browser: Browser, live_server: LiveServer,
                                                                  draft: str) -> None:
    # Its own context: the refused request is the point here, not a broken page for the watcher to report.
    context = browser.new_context(viewport=DESKTOP, locale="en-GB", timezone_id="Europe/London")
    page = context.new_page()
    sign_in(page, live_server, "ed@example.org")
    page.goto(live_server.at(f"/team/issues/{draft}"))
    page.wait_for_load_state("networkidle")
    page.route("**/move", lambda route: route.fulfill(status=503, body="down for a moment"))
    cards = page.locator("#block-list > li.block-card")
    cards.nth(2).locator(".drag-handle").drag_to(cards.nth(0))
    message = page.locator("#editor-status .message-error")
    expect(message).to_have_text("The block could not be moved (error 503), so the order is as it was. "
                                 "Try again in a moment.")
    assert _order(page) == ["Section 1", "Section 2", "Section 3"]
    assert _stored_order(draft) == ["Section 1", "Section 2", "Section 3"]
    page.unroute("**/move")
    page.route("**/move", lambda route: route.abort())
    cards.nth(2).locator(".drag-handle").drag_to(cards.nth(0))
    expect(message).to_contain_text("The composer could not be reached, so the block was not moved")
    context.close()


def test_a_blocks_checks_show_on_it_as_soon_as_it_is_saved(page: Page, live_server: LiveServer, draft: str) -> None:
    """The checks for a block (here vague link text) are on its card the moment Save puts it back, without a
    page load, and go when it is put right."""
    sign_in(page, live_server, "ed@example.org")
    page.goto(live_server.at(f"/team/issues/{draft}"))
    loads: list[str] = []
    page.on("framenavigated", lambda frame: loads.append(frame.url) if frame == page.main_frame else None)
    panel = page.locator("#add-block")
    panel.get_by_label("Type of block").select_option(value="button")
    panel.get_by_role("button", name="Add block").click()
    form = page.locator("#new-block form")
    form.get_by_label("Button text").fill("Click here")
    form.get_by_label("Link address").fill("www.example.org/book")
    form.get_by_role("button", name="Add block").click()
    card = page.locator("#block-list > li.block-card").last
    expect(card.locator(".finding-error")).to_contain_text("Click here")
    expect(page.locator("#checks-title")).to_have_text(re.compile("^Checks: 1 error"))
    key = card.get_attribute("data-key")
    page.locator(f"#edit-{key}").click()
    card.get_by_label("Button text").fill("Book a short break")
    card.get_by_role("button", name="Save block").click()
    expect(page.locator(f"#edit-{key}")).to_be_focused()
    expect(card.locator(".finding-error")).to_have_count(0)
    expect(page.locator("#checks-title")).to_have_text(re.compile("^Checks: 0 errors"))
    assert loads == []


def test_block_form_errors_are_announced_and_linked(page: Page, live_server: LiveServer, draft: str) -> None:
    sign_in(page, live_server, "ed@example.org")
    page.goto(live_server.at(f"/team/issues/{draft}/blocks/new?type=button"))
    page.get_by_label("Link address").fill("www.example.org")
    page.get_by_role("button", name="Add block").click()
    summary = page.get_by_role("alert").filter(has_text="There is a problem")
    expect(summary).to_be_focused()
    assert page.title().startswith("Error: ")
    summary.get_by_role("link", name="Button text is required").click()
    expect(page.get_by_label("Button text")).to_be_focused()
    assert_accessible(page, "composer-block-form-errors")
    # Text typed before the mistake is still there.
    expect(page.get_by_label("Link address")).to_have_value("www.example.org")


def test_change_your_password_page(page: Page, live_server: LiveServer, draft: str) -> None:
    sign_in(page, live_server, "ed@example.org")
    page.get_by_role("link", name="Ed Editor (editor)").click()
    expect(page.get_by_role("heading", level=1, name="Change your password")).to_be_visible()
    page.get_by_label("Current password").fill("wrong")
    page.get_by_label("New password").fill("a different long password")
    page.get_by_role("button", name="Save the new password").click()
    expect(page.get_by_role("alert").filter(has_text="There is a problem")).to_be_focused()
    assert_accessible(page, "composer-change-password-error")


def test_text_typed_but_not_saved_is_offered_back(page: Page, live_server: LiveServer, draft: str) -> None:
    sign_in(page, live_server, "ed@example.org")
    form = live_server.at(f"/team/issues/{draft}/blocks/new?type=text")
    page.goto(form)
    page.get_by_label("Text", exact=True).fill("Half a paragraph about short breaks")
    page.wait_for_function("() => Object.keys(localStorage).some(k => k.startsWith('newsletter.draft:'))")
    page.goto(live_server.at("/team/issues"))  # the tab is left without saving
    page.goto(form)
    notice = page.get_by_role("status").filter(has_text="not saved")
    expect(notice).to_be_visible()
    assert_accessible(page, "composer-unsaved-text-offered")
    notice.get_by_role("button", name="Put my unsaved text back").click()
    # The text editor shows the text put back (it reads the restored Markdown).
    expect(page.get_by_role("textbox", name="Text", exact=True)).to_have_text("Half a paragraph about short breaks")
    page.get_by_role("button", name="Add block").click()
    expect(page.locator("ol.blocks .block-summary").last).to_have_text("Half a paragraph about short breaks")
    # Saved: the copy is gone (cleared by the page's script once it runs), and the next empty form offers nothing.
    page.wait_for_function("() => !Object.keys(localStorage).some(k => k.startsWith('newsletter.draft:'))",
                           timeout=10_000)
    page.goto(form)
    expect(page.get_by_role("heading", level=1, name="Add text")).to_be_visible()
    expect(page.get_by_text("not saved")).to_have_count(0)
    # Signing out clears any copy kept on this computer.
    page.get_by_label("Text", exact=True).fill("Something private")
    page.wait_for_function("() => Object.keys(localStorage).some(k => k.startsWith('newsletter.draft:'))")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", level=1, name="Sign in")).to_be_visible()
    assert page.evaluate("() => Object.keys(localStorage).filter(k => k.startsWith('newsletter.draft:'))") == []
