"""The Theme and footer page in chromium, as an approver uses it: WCAG 2.2 AA (axe-core) at 1280 and
320 px, with and without its error summary; a mistake is announced and linked to its field; a real
logo uploads with its text alternative. (What a saved footer changes is tested in tests/web/test_theme_page.py.)"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from newsletter.accounts import service
from newsletter.accounts.models import Role
from newsletter.db import session_scope

from tests.browser.conftest import (
    TEAM_PASSWORD,
    LiveServer,
    assert_accessible,
    assert_no_horizontal_scroll,
    sign_in,
)

pytestmark = pytest.mark.browser

NARROW = {"width": 320, "height": 640}
DESKTOP = {"width": 1280, "height": 800}
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


@pytest.fixture
def approver(live_server: LiveServer) -> str:
    with session_scope() as session:
        service.create_user(session, "ann@example.org", "Ann Approver", TEAM_PASSWORD, Role.APPROVER)
    return "ann@example.org"


def _check(page: Page, name: str) -> None:
    page.set_viewport_size(DESKTOP)
    assert_accessible(page, f"{name}-1280")
    page.set_viewport_size(NARROW)
    assert_accessible(page, f"{name}-320")
    assert_no_horizontal_scroll(page, f"{name} at 320px")
    page.set_viewport_size(DESKTOP)


def test_an_approver_changes_the_footer_with_a_keyboard_and_a_screen_reader(
        page: Page, live_server: LiveServer, approver: str, tmp_path: Path) -> None:
    sign_in(page, live_server, approver)
    page.get_by_role("link", name="Theme and footer").click()
    expect(page.get_by_role("heading", level=1, name="Theme and footer")).to_be_visible()
    _check(page, "team-theme")

    # A pale link colour and a logo without words: refused, summarised at the top, each linked to its field.
    page.get_by_label("Link colour").fill("#4d90fe")
    logo = tmp_path / "logo.png"
    logo.write_bytes(PNG)
    page.get_by_label("Upload a logo").set_input_files(str(logo))
    page.get_by_role("button", name="Save the theme and footer").click()
    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Link colour on the background: 3.1 to 1; it needs 4.5 to 1")
    expect(page).to_have_title("Error: Theme and footer - Newsletter composer")
    _check(page, "team-theme-errors")
    summary.get_by_role("link", name="Link colour on the background").click()
    expect(page.get_by_label("Link colour")).to_be_focused()
    expect(page.get_by_label("Link colour")).to_have_attribute("aria-invalid", "true")

    # The logo uploaded with the refused form is kept: it need not be chosen again.
    expect(page.get_by_role("img", name="The logo you uploaded")).to_be_visible()
    page.get_by_label("Link colour").fill("#003078")
    page.get_by_label("Logo text alternative").fill("Brackenfield Council Local Offer")
    page.get_by_label("Postal address").fill("Family Hub, 1 Station Road, Brackenfield, BF2 9ZZ")
    page.get_by_role("button", name="Save the theme and footer").click()
    expect(page.get_by_role("status")).to_contain_text("Saved the theme and footer")
    expect(page.get_by_role("img", name="Brackenfield Council Local Offer")).to_be_visible()
    _check(page, "team-theme-saved")
