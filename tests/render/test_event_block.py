"""The event block in the email, the text part and the web view: its time in words on the team's clock,
its calendar link, and a web view that says when it has passed."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import lxml.html
import pytest

from newsletter.checks import check_issue
from newsletter.config import Settings
from newsletter.events.links import is_genuine
from newsletter.issues.blocks import parse_issue
from newsletter.render import pipeline
from newsletter.render.events import clock, when
from newsletter.render.pipeline import RenderedIssue, render_issue
from newsletter.theme import Theme

from tests.checks.test_email_checks import COUNCIL

LONDON = ZoneInfo("Europe/London")
PERSONAL = {"unsubscribe_url": "https://news.example.org/u/abc", "preferences_url": "https://news.example.org/p/abc",
            "name": "Sam"}
SUMMER = {"type": "event", "title": "Coffee morning for parent carers", "starts": "2098-07-09 10:00",
          "ends": "2098-07-09 12:00", "place": "Anytown Library, 1 High Street",
          "access": "Step-free entrance and a quiet room", "booking_url": "https://example.org/coffee",
          "description": "Meet other parents, **children welcome**."}
WINTER = {"type": "event", "title": "Talk about short breaks", "starts": "2098-01-15T18:30:00+00:00",
          "ends": "2098-01-15T20:00:00Z", "place": "Online"}
ALL_DAY = {"type": "event", "title": "Fun day", "starts": "2098-07-11", "place": "Anytown Park"}
SEVERAL_DAYS = {"type": "event", "title": "Summer scheme", "starts": "2098-08-03", "ends": "2098-08-07",
                "place": "Anytown School"}
OVER = {"type": "event", "title": "Last year's fair", "starts": "2020-07-09 10:00", "ends": "2020-07-09 15:00",
        "place": "Town Hall", "booking_url": "https://example.org/fair"}


def _render(settings: Settings, *blocks: dict, date: str | None = "2098-06-01",
            slug: str = "event-news") -> RenderedIssue:
    raw = {"title": "Summer news", "subject": "Summer news", "blocks": list(blocks)}
    if date:
        raw["date"] = date
    return render_issue(parse_issue(raw), slug, Theme(), settings)


def _words(page: str) -> str:
    return " ".join(lxml.html.fromstring(page).text_content().split())


@pytest.mark.parametrize(("block", "words"), [
    (SUMMER, "Wednesday 9 July, 10am to 12 noon"),  # BST: the UTC instants are 9:00 to 11:00
    (WINTER, "Wednesday 15 January, 6:30pm to 8pm"),  # GMT
    (ALL_DAY, "Friday 11 July"),
    (SEVERAL_DAYS, "Sunday 3 August to Thursday 7 August"),
])
def test_the_time_reads_naturally_in_all_three_outputs(settings: Settings, block: dict, words: str) -> None:
    rendered = _render(settings, block)
    email = _words(rendered.html.fill(PERSONAL))
    web = lxml.html.fromstring(rendered.web_html)
    text = " ".join(rendered.text.fill(PERSONAL).split())
    assert f"When: {words}" in email
    assert web.xpath("//section[@class='event']//dt[.='When']/following-sibling::dd/text()") == [words]
    assert f"When: {words}" in text
    for output in (email, text):
        assert f"Where: {block['place']}" in output


def test_a_date_outside_the_issues_year_says_its_year(settings: Settings) -> None:
    text = _render(settings, WINTER, date="2097-12-01").text.fill(PERSONAL)
    assert "When: Wednesday 15 January 2098, 6:30pm to 8pm" in text
    undated = _render(settings, ALL_DAY, date=None).text.fill(PERSONAL)
    assert "When: Friday 11 July 2098" in undated


def test_uk_clock_words() -> None:
    assert [clock(dt.time(h, m)) for h, m in ((0, 0), (9, 5), (10, 0), (12, 0), (12, 30), (17, 30), (23, 59))] == [
        "midnight", "9:05am", "10am", "12 noon", "12:30pm", "5:30pm", "11:59pm"]
    london = dt.timezone(dt.timedelta(hours=1))
    evening = when(dt.datetime(2098, 7, 9, 19, tzinfo=london), dt.datetime(2098, 7, 10, 0, tzinfo=london),
                   LONDON, 2098)
    assert evening == "Wednesday 9 July, 7pm to midnight"
    overnight = when(dt.datetime(2098, 7, 9, 19, tzinfo=london), dt.datetime(2098, 7, 10, 9, tzinfo=london),
                     LONDON, 2098)
    assert overnight == "Wednesday 9 July, 7pm to Thursday 10 July, 9am"


def test_email_has_the_access_the_description_and_both_links(settings: Settings) -> None:
    email = _render(settings, SUMMER).html.fill(PERSONAL)
    page = lxml.html.fromstring(email)
    words = _words(email)
    assert "Access: Step-free entrance and a quiet room" in words
    assert "Meet other parents, children welcome." in words
    assert page.xpath("//a[@href='https://example.org/coffee']//text()") == ["Book a place"]
    (calendar,) = page.xpath("//a[normalize-space()='Add to your calendar']/@href")
    # The link shares its paragraph with the event's time, so it says which event it is for.
    (paragraph,) = page.xpath("//a[normalize-space()='Add to your calendar']/ancestor::p[1]")
    assert "Wednesday 9 July" in paragraph.text_content()
    match = re.fullmatch(r"https://news\.example\.org/events/event-news/1\.ics\?s=([\w-]+)", calendar)
    assert match and is_genuine("event-news", 1, match.group(1), settings.secret_key)


def test_text_part_writes_the_links_out(settings: Settings) -> None:
    text = _render(settings, SUMMER).text.fill(PERSONAL)
    assert "Coffee morning for parent carers\n~~~~" in text
    assert "Book a place:\nhttps://example.org/coffee" in text
    assert re.search(r"Add to your calendar:\nhttps://news\.example\.org/events/event-news/1\.ics\?s=[\w-]+\n", text)
    assert "Access: Step-free entrance and a quiet room" in text


def test_web_view_names_each_link_for_its_event(settings: Settings) -> None:
    web = _render(settings, {"type": "heading", "text": "What's on"}, SUMMER, WINTER).web_html
    page = lxml.html.fromstring(web)
    sections = page.xpath("//section[@class='event']")
    assert [s.get("aria-labelledby") for s in sections] == ["block-2", "block-3"]
    assert [page.get_element_by_id(s.get("aria-labelledby")).tag for s in sections] == ["h3", "h3"]
    links = [" ".join(a.text_content().split()) for a in page.xpath("//section[@class='event']//a")]
    assert links == ["Book a place for Coffee morning for parent carers",
                     "Add to your calendar for Coffee morning for parent carers",
                     "Add to your calendar for Talk about short breaks"]
    assert "This event has passed" not in web


def test_a_passed_event_says_so_on_the_web_and_loses_its_links(settings: Settings) -> None:
    web = _render(settings, OVER, SUMMER).web_html
    page = lxml.html.fromstring(web)
    over, coming = page.xpath("//section[@class='event']")
    assert "This event has passed." in over.text_content()
    assert over.xpath(".//a") == []
    assert "This event has passed" not in coming.text_content() and len(coming.xpath(".//a")) == 2
    # The email is what was sent: it keeps its links.
    assert "https://example.org/fair" in _render(settings, OVER, SUMMER).html.fill(PERSONAL)


def test_the_web_view_says_passed_from_the_moment_it_has_despite_the_cache(settings: Settings,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    class Clock(dt.datetime):
        moment = dt.datetime(2098, 7, 9, 10, 0, tzinfo=dt.timezone.utc)

        @classmethod
        def now(cls, tz=None):  # type: ignore[no-untyped-def,override]
            return cls.moment

    monkeypatch.setattr(pipeline, "datetime", Clock)
    before = _render(settings, SUMMER, slug="cached-news").web_html
    assert "This event has passed" not in before
    Clock.moment = dt.datetime(2098, 7, 9, 11, 1, tzinfo=dt.timezone.utc)  # 12:01 BST, a minute after it ended
    assert "This event has passed." in _render(settings, SUMMER, slug="cached-news").web_html


def test_the_email_checks_stay_green_for_an_issue_with_events(settings: Settings) -> None:
    doc = parse_issue({"title": "Summer news", "subject": "Summer news", "date": "2098-06-01",
                       "blocks": [{"type": "heading", "text": "What's on"}, SUMMER, WINTER, ALL_DAY, SEVERAL_DAYS]})
    theme = COUNCIL
    rendered = render_issue(doc, "green-news", theme, settings)
    report = check_issue(doc, rendered, theme)
    assert report.errors == [], report.format()
    # Only the missing access of the three events without it: nothing about the email itself.
    assert {(f.code, f.block) for f in report.warnings} >= {("event-no-access", 3), ("event-no-access", 4),
                                                            ("event-no-access", 5)}
    assert not [f for f in report.warnings if f.block == 2]
