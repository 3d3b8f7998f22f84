"""Dates and times as people type them, for the event form: "9 July 2026", "9/7/2026", "10am", "14:30".

The form shows a date box and a time box (`<input type="date">` and `type="time"`), which send
`2026-07-09` and `10:00`; where a browser shows plain text boxes instead, or a date is pasted, the
officer types it the way it is written in the UK, day first, and this module reads that too. It makes
the value the issue format stores (a date, or a date and time on the team's clock) or says in plain
words what to change.
"""

from __future__ import annotations

import datetime as dt
import re

from newsletter import localtime
from newsletter.errors import NewsletterError

DATE_EXAMPLE = "9 July 2026 or 9/7/2026"
TIME_EXAMPLE = "10am, 2:30pm or 14:30"

_MONTHS = {name: number for number, names in enumerate((
    ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",), ("june", "jun"),
    ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"), ("october", "oct"), ("november", "nov"),
    ("december", "dec")), start=1) for name in names}
_WEEKDAY = re.compile(r"^(mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)[a-z]*,?\s+", re.IGNORECASE)
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_NUMBERS = re.compile(r"^(\d{1,2})[/.\-\s](\d{1,2})[/.\-\s](\d{4})$")
_WORDS = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)?\s+([a-z]+)\.?,?\s+(\d{4})$", re.IGNORECASE)
_CLOCK = re.compile(r"^(\d{1,2})(?:[:.](\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?$", re.IGNORECASE)
_WORD_TIMES = {"noon": dt.time(12), "12 noon": dt.time(12), "midday": dt.time(12), "12 midday": dt.time(12),
               "midnight": dt.time(0), "12 midnight": dt.time(0)}


class WhenProblem(NewsletterError, ValueError):
    """A date or time that cannot be read; the message follows the field's label ("Start needs a date")."""


def read_date(text: str) -> dt.date:
    typed = _WEEKDAY.sub("", " ".join(text.split()))
    for pattern, order in ((_ISO, (1, 2, 3)), (_NUMBERS, (3, 2, 1))):
        if match := pattern.match(typed):
            year, month, day = (int(match.group(i)) for i in order)
            break
    else:
        match = _WORDS.match(typed)
        month_number = _MONTHS.get(match.group(2).lower()) if match else None
        if not match or month_number is None:
            raise WhenProblem(f"has a date we cannot read: write it like {DATE_EXAMPLE}")
        year, month, day = int(match.group(3)), month_number, int(match.group(1))
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise WhenProblem(f"has a date that does not exist: check the day and the month ({DATE_EXAMPLE})") from None


def read_time(text: str) -> dt.time:
    typed = " ".join(text.lower().split())
    if typed in _WORD_TIMES:
        return _WORD_TIMES[typed]
    match = _CLOCK.match(typed)
    if not match:
        raise WhenProblem(f"has a time we cannot read: write it like {TIME_EXAMPLE}")
    hour, minute, half = int(match.group(1)), int(match.group(2) or 0), (match.group(3) or "").replace(".", "")
    if half:
        if not 1 <= hour <= 12:
            raise WhenProblem(f"has a time that does not exist: with am or pm the hour is 1 to 12 ({TIME_EXAMPLE})")
        hour = hour % 12 + (12 if half == "pm" else 0)
    elif match.group(2) is None:
        # "10" alone could be morning or evening: ask rather than guess.
        raise WhenProblem(f"has a time without am or pm: write it like {TIME_EXAMPLE}")
    if hour > 23 or minute > 59:
        raise WhenProblem(f"has a time that does not exist: write it like {TIME_EXAMPLE}")
    return dt.time(hour, minute)


def when_value(date_text: str, time_text: str, *, day_of_start: str = "") -> str | None:
    """The stored form of a date box and a time box: `2026-07-09`, `2026-07-09T10:00`, or None if both are empty.

    `day_of_start` is the start's date box: an end given only as a time is on the day the event starts.
    """
    date_text, time_text = date_text.strip(), time_text.strip()
    if not date_text and not time_text:
        return None
    if not date_text:
        if not day_of_start.strip():
            raise WhenProblem(f"needs a date, such as {DATE_EXAMPLE}")
        date_text = day_of_start
    day = read_date(date_text)
    if not time_text:
        return day.isoformat()
    moment = dt.datetime.combine(day, read_time(time_text))
    try:
        localtime.parse(moment.isoformat(timespec="minutes"))
    except localtime.InvalidTime:
        raise WhenProblem(f"is at {moment:%H:%M} on {moment.day} {moment:%B %Y}, a time that does not happen: "
                          "the clocks go forward then. Choose a time an hour later.") from None
    return moment.isoformat(timespec="minutes")


def when_boxes(value: object) -> tuple[str, str]:
    """A stored date, or date and time, as its two boxes on the team's clock: ("2026-07-09", "10:00")."""
    if not isinstance(value, str) or not value:
        return "", ""
    if _ISO.match(value):
        return value, ""
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return value, ""
    if moment.tzinfo is not None:
        moment = localtime.local(moment)
    return moment.date().isoformat(), moment.strftime("%H:%M")
