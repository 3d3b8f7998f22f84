"""The web view shows a picture at no more than its own width (or the width asked for), at a phone's width
and a desktop's."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from newsletter.db import session_scope
from newsletter.issues import store
from newsletter.issues.blocks import parse_issue
from newsletter.issues.models import IssueStatus

from tests.browser.conftest import LiveServer, assert_no_horizontal_scroll, wait_for_images
from tests.render.test_picture_widths import png

pytestmark = pytest.mark.browser

PHONE = {"width": 320, "height": 640}


@pytest.fixture
def sent_issue_with_pictures(live_server: LiveServer) -> str:
    media = live_server.settings.media_dir
    media.mkdir(parents=True, exist_ok=True)
    (media / "small.png").write_bytes(png(120, 80))
    (media / "wide.png").write_bytes(png(480, 60))
    doc = parse_issue({"title": "Pictures", "subject": "Pictures", "blocks": [
        {"type": "image", "src": "/media/small.png", "alt": "A small photo asked to be wide", "width": 400},
        {"type": "image", "src": "/media/wide.png", "alt": "A wide photo"},
    ]})
    with session_scope() as session:
        issue = store.create_issue(session, doc)
        for state in (IssueStatus.IN_REVIEW, IssueStatus.APPROVED, IssueStatus.SENDING, IssueStatus.SENT):
            store.move(issue, state)
        return issue.slug


def _shown_width(page: Page, alt: str) -> float:
    return float(page.get_by_alt_text(alt).evaluate("img => img.getBoundingClientRect().width"))


def test_web_view_pictures_are_never_stretched(page: Page, live_server: LiveServer, sent_issue_with_pictures: str) -> None:
    page.goto(live_server.at(f"/issues/{sent_issue_with_pictures}"))
    wait_for_images(page)
    assert _shown_width(page, "A small photo asked to be wide") == 120
    assert _shown_width(page, "A wide photo") == 480
    page.set_viewport_size(PHONE)
    assert _shown_width(page, "A small photo asked to be wide") == 120
    wide = _shown_width(page, "A wide photo")
    column = float(page.locator("main").evaluate("m => m.clientWidth"))
    assert wide < 320 and wide <= column, f"at 320px the wide photo is {wide}px in a {column}px column"
    assert_no_horizontal_scroll(page, "web view with pictures at 320px")
