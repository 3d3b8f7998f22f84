"""Events on the public web app: `/events`, the `/events.ics` feed, each event's calendar file behind its
signed link, and the archive's coming events, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient
from icalendar import Calendar

from newsletter.config import Settings
from newsletter.db import session_scope
from newsletter.issues import service, store
from newsletter.issues.blocks import parse_issue
from newsletter.issues.models import IssueStatus
from newsletter.publish import publish_site
from newsletter.theme import Theme
from newsletter.web import create_app

UTC = dt.timezone.utc
COMING = {"type": "event", "title": "Coffee morning", "starts": "2098-07-09 10:00", "ends": "2098-07-09 12:00",
          "place": "Anytown Library", "access": "Step-free", "booking_url": "https://example.org/book"}
WINTER = {"type": "event", "title": "Winter talk", "starts": "2098-01-15 18:30", "place": "Online"}
OVER = {"type": "event", "title": "Last year's fair", "starts": "2020-07-09", "place": "Town Hall"}
DRAFTED = {"type": "event", "title": "Secret draft picnic", "starts": "2098-08-01", "place": "The park"}


def _issue(slug: str, *blocks: dict, sent: bool) -> None:
    doc = parse_issue({"title": slug.replace("-", " ").capitalize(), "subject": "News", "slug": slug,
                       "date": "2098-06-01", "blocks": [{"type": "heading", "text": "What's on"}, *blocks]})
    with session_scope() as session:
        issue = store.create_issue(session, doc)
        if sent:
            for state in (IssueStatus.IN_REVIEW, IssueStatus.APPROVED, IssueStatus.SENDING, IssueStatus.SENT):
                store.move(issue, state)


@pytest.fixture
def client(db: Settings) -> FlaskClient:
    _issue("june-news", COMING, OVER, sent=True)
    _issue("winter-news", WINTER, sent=True)
    _issue("draft-news", DRAFTED, sent=False)
    return create_app(db).test_client()


def _calendar_links(page: str) -> list[str]:
    """Every calendar link in a page or a text part, once each, in order."""
    found = re.findall(r'https?://[^\s"<>]*/events/[a-z0-9-]+/[0-9]+\.ics\?s=[\w-]+', page)
    return list(dict.fromkeys(found))


def _path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def test_the_feed_lists_only_coming_events_of_sent_issues(client: FlaskClient) -> None:
    response = client.get("/events.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = Calendar.from_ical(response.data)
    events = calendar.walk("VEVENT")
    # Soonest first; the fair is over and the picnic is in a draft.
    assert [str(event["SUMMARY"]) for event in events] == ["Winter talk", "Coffee morning"]
    assert [str(event["UID"]) for event in events] == ["event-2.winter-news@news.example.org",
                                                       "event-2.june-news@news.example.org"]
    assert events[1].decoded("dtstart").astimezone(UTC) == dt.datetime(2098, 7, 9, 9, 0, tzinfo=UTC)
    assert events[0].decoded("dtstart").astimezone(UTC) == dt.datetime(2098, 1, 15, 18, 30, tzinfo=UTC)
    assert str(events[1]["URL"]) == "https://news.example.org/issues/june-news#block-2"
    assert "X-WR-CALNAME" in calendar and b"Secret draft picnic" not in response.data


def test_the_feed_is_the_same_on_every_request_and_unchanged_is_answered_304(client: FlaskClient) -> None:
    first = client.get("/events.ics")
    assert first.data == client.get("/events.ics").data and first.headers["ETag"]
    again = client.get("/events.ics", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""


def test_the_events_page_lists_them_with_their_calendar_links(client: FlaskClient) -> None:
    response = client.get("/events")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "<h1>Coming events</h1>" in page
    assert page.index("Winter talk") < page.index("Coffee morning")
    assert "Last year&#39;s fair" not in page and "Secret draft picnic" not in page
    assert "Wednesday 15 January 2098, 6:30pm" in page and "Wednesday 9 July 2098, 10am to 12 noon" in page
    assert "https://news.example.org/events.ics" in page
    links = _calendar_links(page)
    assert len(links) == 2
    for link in links:
        ics = client.get(_path(link))
        assert ics.status_code == 200 and len(Calendar.from_ical(ics.data).walk("VEVENT")) == 1
    assert client.get("/events/").status_code == 200


def test_the_archive_starts_with_the_coming_events(client: FlaskClient) -> None:
    page = client.get("/issues/").get_data(as_text=True)
    assert "Coming events" in page and page.index("Winter talk") < page.index("Coffee morning")
    assert len(_calendar_links(page)) == 2 and 'href="https://news.example.org/events"' in page
    assert "Winter talk" not in client.get("/issues/?q=june").get_data(as_text=True)


def test_an_issues_calendar_links_work_for_any_reader_without_signing_in(client: FlaskClient, db: Settings) -> None:
    with session_scope() as session:
        rendered = service.rendered(store.get_issue(session, "june-news"), Theme(), db)
    web_links = _calendar_links(rendered.web_html)  # the fair is over: its link is gone from the web view
    email_links = _calendar_links(rendered.html.public)
    assert len(web_links) == 1 and len(email_links) == 2
    response = client.get(_path(email_links[0]))
    assert response.status_code == 200 and "Set-Cookie" not in response.headers
    assert response.headers["Content-Disposition"] == 'attachment; filename="june-news-event-2.ics"'
    (event,) = Calendar.from_ical(response.data).walk("VEVENT")
    assert str(event["UID"]) == "event-2.june-news@news.example.org"
    assert "max-age=300" in response.headers["Cache-Control"]


def test_a_drafts_event_is_served_only_through_its_signed_link(client: FlaskClient, db: Settings) -> None:
    with session_scope() as session:
        rendered = service.rendered(store.get_issue(session, "draft-news"), Theme(), db)
    (link,) = _calendar_links(rendered.text.public)
    response = client.get(_path(link))
    assert response.status_code == 200 and b"Secret draft picnic" in response.data
    assert response.headers["Cache-Control"] == "no-store" and response.headers["X-Robots-Tag"] == "noindex"
    # A draft's file does not link to a web copy nobody can open.
    assert "URL" not in Calendar.from_ical(response.data).walk("VEVENT")[0]


@pytest.mark.parametrize("path", [
    "/events/draft-news/2.ics",  # no signature: trying names finds nothing
    "/events/draft-news/2.ics?s=",
    "/events/draft-news/2.ics?s=not-a-signature",
    "/events/no-such-issue/2.ics?s=abc",
])
def test_without_the_right_signature_nothing_is_found(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404 and b"Secret draft picnic" not in response.data


def test_a_signature_is_for_one_issue_and_one_block(client: FlaskClient, db: Settings) -> None:
    with session_scope() as session:
        rendered = service.rendered(store.get_issue(session, "draft-news"), Theme(), db)
    (link,) = _calendar_links(rendered.text.public)
    signature = link.rsplit("s=", 1)[1]
    assert client.get(f"/events/draft-news/3.ics?s={signature}").status_code == 404
    assert client.get(f"/events/june-news/2.ics?s={signature}").status_code == 404
    # A block that is no longer an event (the heading at 1) is not found either, even with its own signature.
    from newsletter.events.links import signature as sign

    assert client.get(f"/events/draft-news/1.ics?s={sign('draft-news', 1, db.secret_key)}").status_code == 404


def test_a_passed_event_in_a_sent_issues_web_view_says_so(client: FlaskClient) -> None:
    page = client.get("/issues/june-news").get_data(as_text=True)
    assert page.count("This event has passed.") == 1
    assert "Coffee morning" in page and "Add to your calendar" in page


def test_static_publishing_writes_the_events_too(client: FlaskClient, db: Settings, tmp_path: Path) -> None:
    out = tmp_path / "site"
    with session_scope() as session:
        publish_site(session, out, Theme(), db)
    feed = Calendar.from_ical((out / "events.ics").read_bytes())
    assert [str(event["SUMMARY"]) for event in feed.walk("VEVENT")] == ["Winter talk", "Coffee morning"]
    assert "Winter talk" in (out / "events" / "index.html").read_text()
    # Each calendar link's path is a file; the static host ignores the signature after "?".
    with session_scope() as session:
        rendered = service.rendered(store.get_issue(session, "june-news"), Theme(), db)
    for link in _calendar_links(rendered.html.public):
        assert (out / urlsplit(link).path.lstrip("/")).is_file()
    assert not (out / "events" / "draft-news").exists()
