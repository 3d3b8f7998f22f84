"""Lists, subscribers and team members in chromium: WCAG 2.2 AA (axe-core) on every page, and reflow.

Signs in through the real sign-in page, then walks the pages an approver uses: every list, one list
(with the import form, and again with its error summary), an import's row report, the subscriber
search, one subscriber, the erasure confirmation and the team members page. Screenshots of each are
kept in test-artifacts/screenshots/.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from newsletter.accounts import service
from newsletter.accounts.models import Role
from newsletter.db import session_scope
from subscribers import store, team

from tests.browser.conftest import TEAM_PASSWORD, sign_in, LiveServer, _Serving, assert_accessible, assert_no_horizontal_scroll

pytestmark = pytest.mark.browser

PASSWORD = TEAM_PASSWORD
NARROW = {"width": 320, "height": 640}  # WCAG 1.4.10: 1280px at 400% zoom
CONSENT = "Signed paper form at the SEND fair, 3 May 2026"


@pytest.fixture
def approver(live_server: LiveServer) -> str:
    with session_scope() as session:
        service.create_user(session, "ann@example.org", "Ann Approver", PASSWORD, Role.APPROVER)
        service.create_user(session, "ed@example.org", "Ed Editor", PASSWORD, Role.EDITOR)
        news = store.create_list(session, "send-news", "SEND newsletter", description="News for SEND families")
        store.create_list(session, "short-breaks", "Short breaks and activities", public=False)
        for email in ("jo.bloggs@example.org", "sam@example.org"):
            team.add_subscriber(session, live_server.settings, email, [news], name="Jo Bloggs", consent=CONSENT)
    return "ann@example.org"


def _check(page: Page, name: str) -> None:
    assert_accessible(page, f"{name}-1280")
    page.set_viewport_size(NARROW)
    assert_no_horizontal_scroll(page, f"{name} at 320px")
    page.set_viewport_size({"width": 1280, "height": 800})


def test_lists_and_subscribers_pages_are_accessible(page: Page, live_server: LiveServer, _serving: _Serving,
                                                     approver: str, tmp_path: Path) -> None:
    _serving.current.app.config["IMPORT_REPORTS_DIR"] = str(tmp_path / "import-reports")  # type: ignore[union-attr]
    sign_in(page, live_server, approver)

    page.get_by_role("link", name="Lists and subscribers").click()
    expect(page.get_by_role("heading", level=1, name="Lists and subscribers")).to_be_visible()
    _check(page, "team-lists")

    page.get_by_role("link", name="SEND newsletter").click()
    expect(page.get_by_role("heading", level=1, name="SEND newsletter")).to_be_visible()
    _check(page, "team-list")

    # The import form's errors: "already confirmed" without saying where they agreed.
    upload = tmp_path / "families.csv"
    upload.write_text("email,name\nkim@example.org,Kim Lee\nnot an address,Nobody\nsam@example.org,Sam\n",
                      encoding="utf-8")
    page.get_by_label("CSV file", exact=True).set_input_files(str(upload))
    page.get_by_label("Already confirmed").check()
    page.get_by_role("button", name="Import the file").click()
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    assert page.title().startswith("Error: ")
    assert_accessible(page, "team-list-import-errors-1280")

    page.get_by_label("CSV file", exact=True).set_input_files(str(upload))
    page.get_by_label("Where and how these people agreed").fill(CONSENT)
    page.get_by_label("Already confirmed").check()
    page.get_by_role("button", name="Import the file").click()
    expect(page.get_by_role("heading", level=1, name="Import of families.csv into SEND newsletter")).to_be_visible()
    expect(page.get_by_role("link", name="Download the rows not imported (CSV)")).to_be_visible()
    _check(page, "team-list-import-report")

    page.get_by_role("link", name="Lists and subscribers").click()
    page.get_by_role("link", name="Find a subscriber by email address").click()
    page.get_by_label("Email address, or its start").fill("Jo.B")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", name="1 person found")).to_be_visible()
    _check(page, "team-subscribers-search")

    page.get_by_role("link", name="jo.bloggs@example.org").click()
    expect(page.get_by_role("heading", level=1, name="jo.bloggs@example.org")).to_be_visible()
    expect(page.get_by_role("heading", name="Consent history")).to_be_visible()
    _check(page, "team-subscriber")

    page.get_by_role("link", name="Erase jo.bloggs@example.org").click()
    expect(page.get_by_role("heading", level=1, name="Erase jo.bloggs@example.org for good?")).to_be_visible()
    _check(page, "team-subscriber-erase")

    page.get_by_role("link", name="Team members").click()
    expect(page.get_by_role("heading", level=1, name="Team members")).to_be_visible()
    _check(page, "team-users")
    page.get_by_label("Name", exact=True).fill("Lou Editor")
    page.get_by_role("button", name="Create the account").click()
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    assert_accessible(page, "team-users-errors-1280")
