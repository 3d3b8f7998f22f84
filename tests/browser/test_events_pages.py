"""Events in a real browser: the events page, an issue with events and the archive, axe-clean at 320 and
1280 px; the calendar link gives a file a calendar reads; the event form works with and without JavaScript."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

import pytest
from icalendar import Calendar
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from newsletter.accounts import service as accounts
from newsletter.accounts.models import Role
from newsletter.db import session_scope
from newsletter.issues import store
from newsletter.issues.blocks import IssueDocument, parse_issue
from newsletter.issues.models import IssueStatus

from tests.browser.conftest import (
    DESKTOP,
    TEAM_PASSWORD,
    TIMEOUT_MS,
    LiveServer,
    assert_accessible,
    assert_no_horizontal_scroll,
    sign_in,
    watch,
)

pytestmark = pytest.mark.browser

NARROW = {"width": 320, "height": 640}
UTC = dt.timezone.utc
EVENTS = [
    {"type": "event", "title": "Coffee morning for parent carers", "starts": "2098-07-09 10:00",
     "ends": "2098-07-09 12:00", "place": "Anytown Library, 1 High Street, Anytown AB1 2CD",
     "access": "Step-free entrance, a quiet room, and a BSL interpreter if you ask by 1 July",
     "booking_url": "https://example.org/coffee", "description": "Meet other parents. **Children are welcome.**"},
    {"type": "event", "title": "Short breaks: ask us anything", "starts": "2098-01-15 18:30",
     "ends": "2098-01-15 20:00", "place": "Online", "access": "Live captions"},
    {"type": "event", "title": "Summer fair", "starts": "2020-07-11", "place": "Anytown Park",
     "access": "Step-free paths and a quiet tent"},
]


@pytest.fixture
def sent_with_events(live_server: LiveServer) -> str:
    doc = parse_issue({"title": "Summer news for families", "subject": "Summer news", "slug": "summer-news",
                       "date": "2098-06-01", "blocks": [{"type": "text", "markdown": "Hello [[name]]."},
                                                        {"type": "heading", "text": "What's on"}, *EVENTS]})
    with session_scope() as session:
        issue = store.create_issue(session, doc)
        for state in (IssueStatus.IN_REVIEW, IssueStatus.APPROVED, IssueStatus.SENDING, IssueStatus.SENT):
            store.move(issue, state)
        return issue.slug


def _open(page: Page, url: str) -> None:
    response = page.goto(url, wait_until="load")
    assert response is not None and response.status == 200, f"{url} answered {response and response.status}"


def _both_widths(page: Page, name: str) -> None:
    page.set_viewport_size(DESKTOP)
    assert_accessible(page, f"{name}-1280")
    page.set_viewport_size(NARROW)
    assert_no_horizontal_scroll(page, f"{name} at 320px")
    assert_accessible(page, f"{name}-320")


def test_the_events_page(page: Page, live_server: LiveServer, sent_with_events: str) -> None:
    _open(page, live_server.at("/events"))
    main = page.locator("main")
    expect(main.get_by_role("heading", level=2)).to_have_text(
        ["Short breaks: ask us anything", "Coffee morning for parent carers", "Get new events in your calendar"])
    expect(main).to_contain_text("Wednesday 9 July 2098, 10am to 12 noon")
    expect(main).not_to_contain_text("Summer fair")
    expect(main.get_by_role("link", name="Add to your calendar for Coffee morning for parent carers")).to_be_visible()
    _both_widths(page, "events")


def test_an_issue_with_events(page: Page, live_server: LiveServer, sent_with_events: str) -> None:
    _open(page, live_server.at(f"/issues/{sent_with_events}"))
    fair = page.get_by_role("region", name="Summer fair")
    expect(fair).to_contain_text("This event has passed.")
    expect(fair.get_by_role("link")).to_have_count(0)
    coffee = page.get_by_role("region", name="Coffee morning for parent carers")
    expect(coffee.get_by_role("link", name="Book a place for Coffee morning for parent carers")).to_be_visible()
    _both_widths(page, "issue-with-events")


def test_the_archive_with_coming_events(page: Page, live_server: LiveServer, sent_with_events: str) -> None:
    _open(page, live_server.at("/issues/"))
    expect(page.get_by_role("heading", level=2, name="Coming events")).to_be_visible()
    _both_widths(page, "archive-with-events")


def test_add_to_your_calendar_gives_a_file_a_calendar_reads(page: Page, live_server: LiveServer,
                                                            sent_with_events: str) -> None:
    _open(page, live_server.at(f"/issues/{sent_with_events}"))
    with page.expect_download() as download:
        page.get_by_role("link", name="Add to your calendar for Coffee morning for parent carers").click()
    assert download.value.suggested_filename == "summer-news-event-3.ics"
    (event,) = Calendar.from_ical(open(download.value.path(), "rb").read()).walk("VEVENT")
    assert event.decoded("dtstart").astimezone(UTC) == dt.datetime(2098, 7, 9, 9, 0, tzinfo=UTC)


# --- the composer's form ----------------------------------------------------------------------------


@pytest.fixture
def editor(live_server: LiveServer) -> str:
    with session_scope() as session:
        accounts.create_user(session, "ed@example.org", "Ed Editor", TEAM_PASSWORD, Role.EDITOR)
    return "ed@example.org"


@pytest.fixture
def context_for(browser: Browser) -> Iterator[Callable[[bool], Page]]:
    opened: list[BrowserContext] = []

    def make(javascript: bool) -> Page:
        context = browser.new_context(viewport=DESKTOP, locale="en-GB", timezone_id="Europe/London",
                                      java_script_enabled=javascript)
        context.set_default_timeout(TIMEOUT_MS)
        opened.append(context)
        return watch(context.new_page())

    yield make
    for context in opened:
        context.close()


def _draft(title: str) -> str:
    with session_scope() as session:
        issue = store.create_issue(session, IssueDocument(title=title, subject=f"{title} from the Local Offer"))
        issue.created_by_id = accounts.find_user(session, "ed@example.org").id
        return issue.slug


def _fill_event(form: Locator) -> None:
    form.get_by_label("Name of the event").fill("Coffee morning")
    start, end = form.get_by_role("group", name="Start"), form.get_by_role("group", name="End (optional)")
    start.get_by_label("Date").fill("2098-07-09")  # the browser's own date box
    start.get_by_label("Time").fill("10:00")
    end.get_by_label("Time").fill("12:00")
    form.get_by_label("Where").fill("Anytown Library")
    form.get_by_label("Access").fill("Step-free")


def _stored(slug: str) -> list[dict]:
    with session_scope() as session:
        return list(store.get_issue(session, slug).blocks)


EXPECTED = [{"type": "event", "title": "Coffee morning", "starts": "2098-07-09T10:00:00+01:00",
             "ends": "2098-07-09T12:00:00+01:00", "place": "Anytown Library", "access": "Step-free"}]


def test_the_event_form_without_javascript(context_for: Callable[[bool], Page], live_server: LiveServer,
                                          editor: str) -> None:
    page = context_for(False)
    sign_in(page, live_server, editor)
    slug = _draft("July news")
    _open(page, live_server.at(f"/team/issues/{slug}/blocks/new?type=event"))
    form = page.locator("main form").last
    _fill_event(form)
    form.get_by_role("group", name="End (optional)").get_by_label("Time").fill("09:00")  # before the start
    form.get_by_role("button", name="Add block").click()
    summary = page.get_by_role("alert").filter(has_text="There is a problem")
    expect(summary).to_contain_text("End (optional) must be after the start")
    expect(page.locator("main form").last.get_by_label("Name of the event")).to_have_value("Coffee morning")
    form = page.locator("main form").last
    form.get_by_role("group", name="End (optional)").get_by_label("Time").fill("12:00")
    form.get_by_role("button", name="Add block").click()
    expect(page.get_by_role("status").filter(has_text="Added the event block")).to_be_visible()
    assert _stored(slug) == EXPECTED


def test_the_event_form_page_is_accessible(page: Page, live_server: LiveServer, editor: str) -> None:
    # axe runs as a script in the page, so this is the form page as a browser with JavaScript shows it.
    sign_in(page, live_server, editor)
    slug = _draft("September news")
    _open(page, live_server.at(f"/team/issues/{slug}/blocks/new?type=event"))
    _both_widths(page, "event-form")
    page.set_viewport_size(DESKTOP)
    form = page.locator("main form").last
    form.get_by_label("Name of the event").fill("Coffee morning")
    form.get_by_role("group", name="Start").get_by_label("Time").fill("10:00")  # a time without a date
    form.get_by_role("button", name="Add block").click()
    expect(page.get_by_role("alert").filter(has_text="There is a problem")).to_contain_text("Start needs a date")
    _both_widths(page, "event-form-with-a-mistake")


def test_the_event_form_in_place_with_javascript(context_for: Callable[[bool], Page], live_server: LiveServer,
                                                 editor: str) -> None:
    page = context_for(True)
    sign_in(page, live_server, editor)
    slug = _draft("August news")
    _open(page, live_server.at(f"/team/issues/{slug}"))
    panel = page.locator("#add-block")
    panel.get_by_label("Type of block").select_option(value="event")
    panel.get_by_role("button", name="Add block").click()
    form = page.locator("#new-block form")
    expect(form).to_be_visible()
    _fill_event(form)
    form.get_by_role("button", name="Add block").click()
    expect(page.locator("#block-list > li")).to_have_count(1)
    assert _stored(slug) == EXPECTED
