"""When an event happens: its times as the issue format and the composer give them, and the instants
they mean.

`starts` is a date (an all-day event) or a date and time; `ends`, when given, is the same kind. A time
written without a zone (`2026-07-09 10:00`, or the composer's date and time boxes) is on the team's
clock, `NEWSLETTER_TIMEZONE` (newsletter/localtime.py): the team writes the time the doors open, where
the event is. It is kept with its offset (`2026-07-09T10:00:00+01:00`), so a stored issue says exactly
when, whatever the setting later becomes. A time with its own offset is taken as written, and shown
on the team's clock. A time the clocks skip is refused, as everywhere else.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from newsletter import localtime

# Years outside this range are typing mistakes (0226 for 2026), and calendars handle them badly.
FIRST_YEAR, LAST_YEAR = 2000, 2099
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SHAPES = "a date such as 2026-07-09, or a date and time such as 2026-07-09 10:00"

EventTime = dt.date | dt.datetime


def _in_range(day: dt.date) -> None:
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ValueError(f"must be a date between {FIRST_YEAR} and {LAST_YEAR}; check the year")


def read_event_time(value: Any) -> EventTime:
    """A date, or an aware date and time on the team's clock; ValueError in words otherwise."""
    if isinstance(value, str):
        text = value.strip()
        if not text:
            raise ValueError("is required")
        try:
            value = dt.date.fromisoformat(text) if _DATE_ONLY.match(text) else dt.datetime.fromisoformat(
                text.replace(" ", "T", 1))
        except ValueError:
            raise ValueError(f"must be {_SHAPES}") from None
    if isinstance(value, dt.datetime):
        _in_range(value.date())
        if value.tzinfo is None:
            # Read on the team's clock; a time the clocks skip raises InvalidTime, itself a ValueError.
            value = localtime.parse(value.isoformat(timespec="minutes")) or value
        return value.astimezone(localtime.zone())
    if isinstance(value, dt.date):
        _in_range(value)
        return value
    raise ValueError(f"must be {_SHAPES}")


def is_all_day(value: EventTime) -> bool:
    return not isinstance(value, dt.datetime)


def _midnight(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=zone)


@dataclass(frozen=True)
class Span:
    """An event as two instants: when it starts, and when it is over (then it has passed).

    An all-day event runs from the start of its first day to the end of its last, on the team's
    clock; an event with a start time and no end is over at the end of its day.
    """

    start: dt.datetime
    over: dt.datetime
    all_day: bool

    def has_passed(self, now: dt.datetime) -> bool:
        return now >= self.over


def span(starts: EventTime, ends: EventTime | None, zone: ZoneInfo) -> Span:
    if not isinstance(starts, dt.datetime):
        last = ends if ends is not None and not isinstance(ends, dt.datetime) else starts
        return Span(_midnight(starts, zone), _midnight(last + dt.timedelta(days=1), zone), all_day=True)
    start = starts.astimezone(zone)
    if isinstance(ends, dt.datetime):
        return Span(start, ends.astimezone(zone), all_day=False)
    return Span(start, _midnight(start.date() + dt.timedelta(days=1), zone), all_day=False)


def order_problem(starts: EventTime, ends: EventTime | None) -> str | None:
    """What is wrong with the pair, in words for the `ends` field, or None."""
    if ends is None:
        return None
    if is_all_day(starts) != is_all_day(ends):
        if is_all_day(starts):
            return "must be a date without a time, like the start, for an event that lasts all day"
        return "needs a time as well as a date, like the start"
    if isinstance(starts, dt.datetime) and isinstance(ends, dt.datetime):
        if ends <= starts:
            return "must be after the start: check the date and time it ends"
    elif ends < starts:
        return "must be on or after the day it starts"
    return None
