"""An event's time in words, as a family reads it: "Saturday 9 July, 10am to 12 noon".

UK conventions (GOV.UK's style): the day of the week, the day and the month, no leading zeros, "10am" and
"5:30pm" on the 12-hour clock, "12 noon" and "midnight" said in words, and "to" between the start and
the end. The year is added when a date is not in the year of reference (the issue's own year), so a
January event in a December issue is not read as last January. Times are on the team's clock
(`NEWSLETTER_TIMEZONE`), where the event is; the zone is not said, as a poster would not say it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from newsletter import localtime
from newsletter.config import Settings
from newsletter.events.links import calendar_url
from newsletter.events.times import EventTime, span
from newsletter.issues.blocks import EventBlock, IssueDocument

_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")


def clock(moment: dt.time) -> str:
    """A time of day: "10am", "5:30pm", "12 noon", "midnight"."""
    if (moment.hour, moment.minute) == (12, 0):
        return "12 noon"
    if (moment.hour, moment.minute) == (0, 0):
        return "midnight"
    hour = moment.hour % 12 or 12
    suffix = "am" if moment.hour < 12 else "pm"
    return f"{hour}{suffix}" if moment.minute == 0 else f"{hour}:{moment.minute:02d}{suffix}"


def day(date: dt.date, *, year: bool) -> str:
    """A date with its day of the week: "Saturday 9 July", with " 2026" when asked."""
    words = f"{_DAYS[date.weekday()]} {date.day} {_MONTHS[date.month - 1]}"
    return f"{words} {date.year}" if year else words


def when(starts: EventTime, ends: EventTime | None, zone: ZoneInfo, reference_year: int | None) -> str:
    """The whole of an event's time in words; `reference_year` None always says the year."""
    if not isinstance(starts, dt.datetime):
        last = ends if ends is not None and not isinstance(ends, dt.datetime) and ends != starts else None
        year = any(d.year != reference_year for d in (starts, last) if d is not None)
        first = day(starts, year=year)
        return f"{first} to {day(last, year=year)}" if last else first
    start = starts.astimezone(zone)
    end = ends.astimezone(zone) if isinstance(ends, dt.datetime) else None
    # An evening that ends at midnight ends that day, not "to Sunday 10 July, midnight".
    same_day = end is not None and (end.date() == start.date() or (
        end.date() == start.date() + dt.timedelta(days=1) and end.time() == dt.time(0)))
    year = any(d.year != reference_year for d in (start, end) if d is not None)
    first = f"{day(start.date(), year=year)}, {clock(start.time())}"
    if end is None:
        return first
    if same_day:
        return f"{first} to {clock(end.time())}"
    return f"{first} to {day(end.date(), year=year)}, {clock(end.time())}"


@dataclass(frozen=True)
class EventView:
    """What the event partials show beside the block's own fields."""

    when: str
    calendar_url: str
    passed: bool


def reference_year(doc: IssueDocument) -> int | None:
    """The year an issue's dates are read in: its own date's (None, so every date says its year, without one)."""
    return doc.date.year if doc.date else None


def event_view(block: EventBlock, position: int, slug: str, settings: Settings, now: dt.datetime,
               year: int | None) -> EventView:
    zone = localtime.zone(settings)
    return EventView(
        when=when(block.starts, block.ends, zone, year),
        calendar_url=calendar_url(settings.base_url, slug, position, settings.secret_key),
        passed=span(block.starts, block.ends, zone).has_passed(now),
    )


def event_helper(doc: IssueDocument, slug: str, settings: Settings,
                 now: dt.datetime) -> Callable[[Any], EventView]:
    """`event(view)` for the partials: the event of a block view (newsletter/render/pipeline.py's BlockView)."""
    year = reference_year(doc)
    return lambda view: event_view(view.block, view.index + 1, slug, settings, now, year)


def passed_events(doc: IssueDocument, settings: Settings, now: dt.datetime) -> list[int]:
    """The positions of the issue's events that have passed: part of a rendered web view's cache key,
    so the page says "This event has passed" from the moment it has."""
    zone = localtime.zone(settings)
    return [index + 1 for index, block in enumerate(doc.blocks)
            if isinstance(block, EventBlock) and span(block.starts, block.ends, zone).has_passed(now)]
