"""The calendar files, read back with the icalendar package as a calendar app reads them."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from icalendar import Calendar

from newsletter.config import Settings
from newsletter.events.calendar import CalendarEntry, build_calendar, event_uid
from newsletter.issues.blocks import EventBlock

UTC = dt.timezone.utc
LONDON = ZoneInfo("Europe/London")
STAMP = dt.datetime(2098, 6, 1, 8, 0, tzinfo=UTC)


def _block(**fields: object) -> EventBlock:
    return EventBlock.model_validate({"type": "event", "title": "Coffee morning", "place": "Anytown Library", **fields})


def _read(body: bytes) -> list:
    return Calendar.from_ical(body).walk("VEVENT")


def test_bst_and_gmt_events_carry_the_right_utc_instants(settings: Settings) -> None:
    summer = _block(starts="2098-07-09 10:00", ends="2098-07-09 12:00")
    winter = _block(title="Talk", starts="2098-01-15 18:30", ends="2098-01-15 20:00", place="Online")
    body = build_calendar([CalendarEntry(summer, "a@x", STAMP), CalendarEntry(winter, "b@x", STAMP)], LONDON)
    first, second = _read(body)
    assert first.decoded("dtstart").astimezone(UTC) == dt.datetime(2098, 7, 9, 9, 0, tzinfo=UTC)
    assert first.decoded("dtend").astimezone(UTC) == dt.datetime(2098, 7, 9, 11, 0, tzinfo=UTC)
    assert second.decoded("dtstart").astimezone(UTC) == dt.datetime(2098, 1, 15, 18, 30, tzinfo=UTC)
    assert second.decoded("dtend").astimezone(UTC) == dt.datetime(2098, 1, 15, 20, 0, tzinfo=UTC)
    # Written on the team's clock with the zone named, and the zone itself described for calendars without it.
    text = body.decode()
    assert "DTSTART;TZID=Europe/London:20980709T100000" in text
    assert "DTSTART;TZID=Europe/London:20980115T183000" in text
    (zone,) = Calendar.from_ical(body).walk("VTIMEZONE")
    assert zone["TZID"] == "Europe/London"
    assert {str(part["TZNAME"]) for part in zone.subcomponents} == {"GMT", "BST"}


def test_the_file_has_what_rfc_5545_requires(settings: Settings) -> None:
    calendar = Calendar.from_ical(build_calendar([CalendarEntry(_block(starts="2098-07-09"), "a@x", STAMP)], LONDON))
    assert calendar["VERSION"] == "2.0" and calendar["PRODID"] and calendar["METHOD"] == "PUBLISH"
    (event,) = calendar.walk("VEVENT")
    assert event["UID"] == "a@x"
    assert event.decoded("dtstamp") == STAMP
    # icalendar's own validation of the file as a whole finds nothing wrong.
    assert calendar.errors == [] and event.errors == []


def test_an_all_day_event_is_dates_ending_the_day_after_its_last(settings: Settings) -> None:
    (one_day,) = _read(build_calendar([CalendarEntry(_block(starts="2098-07-11"), "a@x", STAMP)], LONDON))
    assert one_day.decoded("dtstart") == dt.date(2098, 7, 11)
    assert one_day.decoded("dtend") == dt.date(2098, 7, 12)
    (several,) = _read(build_calendar([CalendarEntry(_block(starts="2098-08-03", ends="2098-08-07"), "a@x", STAMP)],
                                      LONDON))
    assert several.decoded("dtstart") == dt.date(2098, 8, 3) and several.decoded("dtend") == dt.date(2098, 8, 8)
    assert b"VTIMEZONE" not in build_calendar([CalendarEntry(_block(starts="2098-07-11"), "a@x", STAMP)], LONDON)


def test_the_event_carries_its_place_access_description_and_links(settings: Settings) -> None:
    block = _block(starts="2098-07-09 10:00", access="Step-free; a quiet room, and BSL", booking_url="https://e.org/b",
                   description="Meet **other parents**, with [the guide](https://e.org/g).")
    (event,) = _read(build_calendar([CalendarEntry(block, "a@x", STAMP, "https://news.example.org/issues/n#block-2")],
                                    LONDON))
    assert str(event["SUMMARY"]) == "Coffee morning" and str(event["LOCATION"]) == "Anytown Library"
    description = str(event["DESCRIPTION"])
    assert "Access: Step-free; a quiet room, and BSL" in description  # escaped in the file, whole when read
    assert "Meet other parents" in description and "https://e.org/g" in description and "**" not in description
    assert "Book a place: https://e.org/b" in description
    assert str(event["URL"]) == "https://news.example.org/issues/n#block-2"


def test_the_uid_comes_from_the_slug_and_block_and_is_stable(settings: Settings) -> None:
    block = _block(starts="2098-07-09 10:00")
    uid = event_uid("summer-news", 4, settings.base_url)
    assert uid == "event-4.summer-news@news.example.org"
    once = build_calendar([CalendarEntry(block, uid, STAMP)], LONDON)
    again = build_calendar([CalendarEntry(_block(starts="2098-07-09 10:00"), event_uid("summer-news", 4,
                                                                                          settings.base_url), STAMP)],
                           LONDON)
    assert once == again


def test_a_feed_has_a_name_and_asks_to_be_refreshed(settings: Settings) -> None:
    calendar = Calendar.from_ical(build_calendar([], LONDON, name="Local Offer news: events"))
    assert str(calendar["X-WR-CALNAME"]) == "Local Offer news: events" == str(calendar["NAME"])
    assert b"REFRESH-INTERVAL;VALUE=DURATION:PT6H" in build_calendar([], LONDON, name="x")
    assert calendar.walk("VEVENT") == []
