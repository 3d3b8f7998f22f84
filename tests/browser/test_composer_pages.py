"""Composer details the journey test does not reach: drag-and-drop order, error states, locked pages."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from newsletter.accounts import service
from newsletter.accounts.models import Role
from newsletter.db import session_scope
from newsletter.issues import editing, store
from newsletter.issues.blocks import IssueDocument

from tests.browser.conftest import TEAM_PASSWORD, LiveServer, assert_accessible, sign_in

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


def test_drag_a_block_by_its_handle(page: Page, live_server: LiveServer, draft: str) -> None:
    sign_in(page, live_server, "ed@example.org")
    page.goto(live_server.at(f"/team/issues/{draft}"))
    assert _order(page) == ["Section 1", "Section 2", "Section 3"]
    cards = page.locator("ol.blocks li.block-card")
    cards.nth(2).locator(".drag-handle").drag_to(cards.nth(0))
    expect(page.locator("ol.blocks .block-summary").first).to_have_text("Section 3")
    assert _order(page) == ["Section 3", "Section 1", "Section 2"]


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
