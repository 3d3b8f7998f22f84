"""iCalendar files (RFC 5545) of events, built with the `icalendar` package: one event's `.ics` and the
feed of coming events families subscribe to.

A timed event is written on the team's clock with its zone (`DTSTART;TZID=Europe/London:20260709T100000`)
and a VTIMEZONE describing that zone over the events' dates, so a calendar shows it at the right moment
wherever the family is and whatever the clocks do. An all-day event is a date (`VALUE=DATE`), its end
the day after its last day, as the standard counts it. The UID is made from the issue's slug and the
block's number, so the same event has the same UID in every file and every re-render: a calendar that
has it already updates it instead of adding a copy.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vDuration

from newsletter.issues.blocks import EventBlock
from newsletter.render.markdown import to_text

PRODID = "-//Local Offer newsletter//Events//EN"
# How often a subscribed calendar should look again (RFC 7986, and Outlook's and Apple's own name for it).
REFRESH = dt.timedelta(hours=6)


@dataclass(frozen=True)
class CalendarEntry:
    """One event as a calendar file carries it, with where it came from."""

    block: EventBlock
    uid: str
    # When the file's copy of the event was made (DTSTAMP): the issue's last change.
    stamp: dt.datetime
    # The event in the newsletter's web copy, when there is one to link to.
    page_url: str | None = None


def event_uid(slug: str, position: int, base_url: str) -> str:
    """Stable for as long as the issue is: its slug never changes, nor does a sent issue's block order."""
    host = urlsplit(base_url).hostname or "localhost"
    return f"event-{position}.{slug}@{host}"


def _description(block: EventBlock, page_url: str | None) -> str:
    parts = []
    if block.access:
        parts.append(f"Access: {block.access}")
    if block.description:
        parts.append(to_text(block.description, "there", width=10_000))
    if block.booking_url:
        parts.append(f"Book a place: {block.booking_url}")
    if page_url:
        parts.append(f"In the newsletter: {page_url}")
    return "\n\n".join(parts)


def _vevent(entry: CalendarEntry, zone: ZoneInfo) -> Event:
    block = entry.block
    event = Event()
    event.add("uid", entry.uid)
    event.add("dtstamp", entry.stamp.astimezone(dt.timezone.utc))
    event.add("summary", block.title)
    if isinstance(block.starts, dt.datetime):
        event.add("dtstart", block.starts.astimezone(zone))
        if isinstance(block.ends, dt.datetime):
            event.add("dtend", block.ends.astimezone(zone))
    else:
        last = block.ends if block.ends is not None and not isinstance(block.ends, dt.datetime) else block.starts
        event.add("dtstart", block.starts)
        event.add("dtend", last + dt.timedelta(days=1))  # the day after the last, as RFC 5545 counts
    event.add("location", block.place)
    description = _description(block, entry.page_url)
    if description:
        event.add("description", description)
    if entry.page_url or block.booking_url:
        event.add("url", entry.page_url or block.booking_url)
    return event


def build_calendar(entries: list[CalendarEntry], zone: ZoneInfo, *, name: str | None = None) -> bytes:
    """The `.ics` bytes for the entries; `name` makes it a feed to subscribe to, with that name."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    if name is not None:
        calendar.add("name", name)  # RFC 7986
        calendar.add("x-wr-calname", name)  # what Apple, Google and Outlook read
        calendar.add("refresh-interval", vDuration(REFRESH), parameters={"VALUE": "DURATION"})
        calendar.add("x-published-ttl", vDuration(REFRESH))
    for entry in entries:
        calendar.add_component(_vevent(entry, zone))
    timed = [entry.block for entry in entries if isinstance(entry.block.starts, dt.datetime)]
    if timed:
        first = min(block.starts.astimezone(zone).date() for block in timed)
        last = max((block.ends or block.starts).astimezone(zone).date() for block in timed)  # type: ignore[union-attr]
        # Only the zone's changes over the events' own dates: a small VTIMEZONE, exact for every event in it.
        calendar.add_missing_timezones(first_date=first, last_date=last + dt.timedelta(days=1))
    return calendar.to_ical()
