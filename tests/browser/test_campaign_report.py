"""The campaign report in chromium: a table of figures and a bar chart that is a figure whose text
equivalent is the table, axe-clean (WCAG 2.2 AA) at 1280 and 320 px, no sideways scroll, CSP clean."""

from __future__ import annotations

import http.client
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from newsletter.accounts import service
from newsletter.accounts.models import Role
from newsletter.db import session_scope
from newsletter.delivery import campaigns
from newsletter.delivery.transport import SmtpTransport
from newsletter.issues import store

from tests.browser.conftest import (TEAM_PASSWORD, LiveServer, assert_accessible, assert_no_horizontal_scroll,
                                    sign_in)
from tests.counts.conftest import BROWSER
from tests.delivery.conftest import SLUG, approved_issue, make_list, make_readers, run_to_end
from tests.smtp import SmtpServer

pytestmark = pytest.mark.browser

NARROW = {"width": 320, "height": 640}


def _click(link: str, times: int) -> None:
    parts = urlsplit(link)
    for _ in range(times):
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        connection.request("GET", parts.path, headers={"User-Agent": BROWSER})
        assert connection.getresponse().status == 302
        connection.close()


def test_the_report_is_a_clear_table_and_an_accessible_chart(page: Page, live_server: LiveServer) -> None:
    settings = live_server.settings
    approved_issue(settings)
    make_readers(make_list(), 5)
    with session_scope() as session:
        service.create_user(session, "ed@example.org", "Ed Editor", TEAM_PASSWORD, Role.EDITOR)
        campaign_id = campaigns.create_campaign(session, store.get_issue(session, SLUG), ["send-news"], settings).id
    with SmtpServer() as server:
        transport = SmtpTransport(server.url)
        run_to_end(settings, campaign_id, transport)
        transport.close()
    html = server.messages[0].message.get_body(("html",)).get_content()
    redirects = list(dict.fromkeys(part.split('"')[0] for part in html.split('href="')[1:] if "/r/" in part))
    _click(redirects[0], 3)
    _click(redirects[4], 1)

    sign_in(page, live_server, "ed@example.org")
    page.goto(live_server.at(f"/team/campaigns/{campaign_id}"))
    expect(page.get_by_role("heading", level=2, name="Report")).to_be_visible()
    figures = page.get_by_role("table", name="Messages and readers")
    expect(figures.get_by_role("row", name="Delivered 5")).to_be_visible()
    chart = page.get_by_role("figure", name="Clicks per link")
    expect(chart).to_be_visible()
    # The bars are hidden from screen readers; the table inside the figure says the same in words.
    expect(chart.locator(".chart-bars")).to_have_attribute("aria-hidden", "true")
    clicks = chart.get_by_role("table")
    expect(clicks.get_by_role("row").nth(1)).to_contain_text("3")
    expect(page.locator(".bar-w-100")).to_have_count(1)
    expect(page.get_by_text("There is no open pixel")).to_be_visible()
    expect(page.get_by_role("link", name="Download the report as a spreadsheet (CSV)")).to_be_visible()
    assert_accessible(page, "campaign-report-1280")
    page.set_viewport_size(NARROW)
    assert_no_horizontal_scroll(page, "campaign report at 320px")
    assert_accessible(page, "campaign-report-320")
