"""The events in issues, as the public pages and the calendar files use them.

Only sent issues make the list of coming events (a draft's event may still change or be dropped); a
single event's calendar file is served for any issue whose signed link someone holds (newsletter/events/links.py).
The issues come from the issue store; only their event blocks are read.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pydantic import ValidationError
from sqlalchemy.orm import Session

from newsletter import localtime
from newsletter.config import Settings
from newsletter.events.calendar import CalendarEntry, build_calendar, event_uid
from newsletter.events.links import calendar_url
from newsletter.events.times import Span, span
from newsletter.issues import store
from newsletter.issues.blocks import EventBlock
from newsletter.issues.models import Issue
from newsletter.render.events import when
from newsletter.render.pipeline import web_url


@dataclass(frozen=True)
class IssueEvent:
    """An event block with the issue it is in."""

    block: EventBlock
    position: int  # the block's number in its issue, from 1
    slug: str
    issue_title: str
    span: Span
    # The issue's last change: the calendar copy's DTSTAMP.
    stamp: dt.datetime

    def page_url(self, settings: Settings) -> str:
        return f"{web_url(settings, self.slug)}#block-{self.position}"

    def calendar_url(self, settings: Settings) -> str:
        return calendar_url(settings.base_url, self.slug, self.position, settings.secret_key)

    def calendar_entry(self, settings: Settings, *, public: bool) -> CalendarEntry:
        return CalendarEntry(self.block, event_uid(self.slug, self.position, settings.base_url), self.stamp,
                             self.page_url(settings) if public else None)


def events_of(issue: Issue, settings: Settings) -> list[IssueEvent]:
    """The issue's events, in the order of its blocks."""
    zone = localtime.zone(settings)
    stamp = issue.sent_at or issue.updated_at or dt.datetime.now(dt.timezone.utc)
    found = []
    for index, raw in enumerate(issue.blocks or []):
        if not isinstance(raw, dict) or raw.get("type") != "event":
            continue
        try:
            block = EventBlock.model_validate(raw, context={"stored": True})
        except ValidationError:
            continue  # saved by a version with other rules: shown in the issue, left out of calendars
        found.append(IssueEvent(block, index + 1, issue.slug, issue.title, span(block.starts, block.ends, zone),
                                stamp))
    return found


def coming_events(session: Session, settings: Settings, now: dt.datetime | None = None) -> list[IssueEvent]:
    """Events of sent issues that have not passed, soonest first."""
    now = now or dt.datetime.now(dt.timezone.utc)
    coming = [event for issue in store.sent_issues(session) for event in events_of(issue, settings)
              if not event.span.has_passed(now)]
    return sorted(coming, key=lambda event: (event.span.start, event.slug, event.position))


def event_at(issue: Issue, position: int, settings: Settings) -> IssueEvent | None:
    return next((event for event in events_of(issue, settings) if event.position == position), None)


@dataclass(frozen=True)
class ListedEvent:
    """A coming event as the public pages list it: the block, its time in words and its two links."""

    event: IssueEvent
    when: str
    calendar_url: str
    page_url: str


def listed(found: list[IssueEvent], settings: Settings, now: dt.datetime | None = None) -> list[ListedEvent]:
    """Events for a page; a date says its year when it is not this year's."""
    zone = localtime.zone(settings)
    year = localtime.local(now or dt.datetime.now(dt.timezone.utc), settings).year
    return [ListedEvent(event, when(event.block.starts, event.block.ends, zone, year), event.calendar_url(settings),
                        event.page_url(settings)) for event in found]


def feed_calendar(session: Session, settings: Settings, masthead: str) -> bytes:
    """`/events.ics`: the coming events of sent issues, for a calendar app to subscribe to."""
    entries = [event.calendar_entry(settings, public=True) for event in coming_events(session, settings)]
    return build_calendar(entries, localtime.zone(settings), name=f"{masthead}: events")


def event_calendar(event: IssueEvent, settings: Settings, *, public: bool) -> bytes:
    """One event's `.ics`; `public` (a sent issue) links it to the issue's web copy."""
    return build_calendar([event.calendar_entry(settings, public=public)], localtime.zone(settings))
