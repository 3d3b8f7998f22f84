"""A reader's own pages in chromium: the readable "details we hold about you" and the unsubscribe
answer naming the lists still on, with axe at 1280 and 320 px."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from newsletter.db import session_scope
from subscribers import links, membership, store
from subscribers.models import ConsentSource

from tests.browser.conftest import LiveServer, assert_accessible, assert_no_horizontal_scroll

pytestmark = pytest.mark.browser


def test_a_reader_reads_their_details_and_leaves_one_list(page: Page, live_server: LiveServer) -> None:
    settings = live_server.settings
    with session_scope() as session:
        news = store.create_list(session, "send-news", "SEND newsletter")
        breaks = store.create_list(session, "short-breaks", "Short breaks and activities")
        person, _ = store.get_or_create_subscriber(session, "jo.bloggs@example.org", "Jo Bloggs")
        person.attributes = {"Child's school": "Hill School, a long name that has to wrap on a phone screen"}
        for mailing_list in (news, breaks):
            membership.add_confirmed(session, person, mailing_list, source=ConsentSource.IMPORT,
                                     wording="Signed paper form at the SEND fair, 3 May 2026")
        prefs, leave = links.preferences_url(settings, person), links.unsubscribe_url(settings, person, [news.id])
    page.goto(prefs)
    page.get_by_role("link", name="See the details we hold about you").click()
    expect(page.get_by_role("heading", level=1, name="The details we hold about you")).to_be_visible()
    expect(page.get_by_text("Signed paper form at the SEND fair, 3 May 2026").first).to_be_visible()
    for width, height in ((1280, 800), (320, 640)):
        page.set_viewport_size({"width": width, "height": height})
        assert_accessible(page, f"subscriber-my-data-{width}")
        assert_no_horizontal_scroll(page, f"my data at {width}px")
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(leave)
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.get_by_role("status")).to_contain_text("You still get: Short breaks and activities.")
    assert_accessible(page, "subscriber-unsubscribed-still-on")
