"""The first-run page in chromium: from a new install to signed in, axe-clean at 320 and 1280 px.

The code is the one the server printed in its log (read back from the log records of this test's
app), typed as a person copies it; a wrong code first shows the error summary, which is checked too.
"""

from __future__ import annotations

import logging
import re

import pytest
from playwright.sync_api import Page, expect

from newsletter.accounts.models import Role, User
from newsletter.db import session_scope

from tests.browser.conftest import LiveServer, _Serving, assert_accessible, assert_no_horizontal_scroll

pytestmark = pytest.mark.browser

NARROW = {"width": 320, "height": 640}
PASSWORD = "correct horse battery"


@pytest.fixture
def fresh_install(db, _serving: _Serving, caplog: pytest.LogCaptureFixture) -> tuple[LiveServer, str]:  # type: ignore[no-untyped-def]
    """A live server whose app was just made on an empty database, and the set-up code it logged."""
    from newsletter.web import create_app

    with caplog.at_level(logging.WARNING, logger="newsletter.first_run"):
        _serving.current.app = create_app(db)
    found = [re.search(r"set-up code ([A-Z2-7-]{14})", record.getMessage()) for record in caplog.records]
    codes = [match.group(1) for match in found if match]
    assert codes, "the set-up code is printed in the log"
    yield LiveServer(url=_serving.url, settings=db), codes[-1]
    _serving.current.app = None


def test_from_a_new_install_to_signed_in(page: Page, fresh_install: tuple[LiveServer, str]) -> None:
    server, code = fresh_install
    page.goto(server.at("/team/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up the newsletter")
    assert_accessible(page, "first-run-desktop")
    page.set_viewport_size(NARROW)
    assert_accessible(page, "first-run-phone")
    assert_no_horizontal_scroll(page, "first-run page at 320 px")

    page.get_by_label("Set-up code").fill("AAAA-BBBB-CCCC")
    page.get_by_label("Your name").fill("Ann Approver")
    page.get_by_label("Email address").fill("ann@example.org")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Make my account and sign in").click()
    summary = page.locator(".error-summary")
    expect(summary).to_contain_text("The set-up code is not right")
    expect(summary).to_be_focused()
    expect(page.get_by_label("Your name")).to_have_value("Ann Approver")
    assert_accessible(page, "first-run-error-phone")
    page.set_viewport_size({"width": 1280, "height": 800})
    assert_accessible(page, "first-run-error-desktop", full_page=False)

    page.get_by_label("Set-up code").fill(code.lower())
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Make my account and sign in").click()
    expect(page).to_have_url(re.compile(r"/team/issues$"))
    expect(page.get_by_text("Welcome, Ann Approver")).to_be_visible()
    assert_accessible(page, "first-run-signed-in", full_page=False)
    with session_scope() as session:
        assert [(u.email, u.role) for u in session.query(User)] == [("ann@example.org", Role.APPROVER)]

    page.goto(server.at("/team/set-up"))
    expect(page).to_have_url(re.compile(r"/team/issues$"))  # signed in, the gone page leads on to the issues
