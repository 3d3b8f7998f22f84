"""The archive page, the Atom feed and the page of coming events of sent issues, shared by the web app and
static publishing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

from newsletter.config import Settings
from newsletter.issues.models import Issue
from newsletter.render.pipeline import web_page_context, web_url
from newsletter.render.templating import environment
from newsletter.theme import Theme

# The archive shows the next few events; the events page has them all.
COMING_EVENTS_SHOWN = 3


@dataclass(frozen=True)
class ArchiveEntry:
    title: str
    url: str
    date: date | None
    summary: str
    updated: str


def entries(issues: list[Issue], settings: Settings) -> list[ArchiveEntry]:
    out = []
    for issue in issues:
        stamp = issue.sent_at or issue.updated_at or datetime.now(timezone.utc)
        out.append(
            ArchiveEntry(
                title=issue.title,
                url=web_url(settings, issue.slug),
                date=issue.issue_date or stamp.date(),
                summary=issue.preheader,
                updated=stamp.astimezone(timezone.utc).isoformat(timespec="seconds"),
            )
        )
    return out


def render_archive(items: list[ArchiveEntry], theme: Theme, settings: Settings, query: str = "",
                   events: Sequence[Any] = ()) -> str:
    """The archive; `events` (newsletter/events/listing.py's ListedEvent) are the coming events it starts with."""
    context = web_page_context(theme, settings)
    context.update(entries=items, query=query, coming_events=list(events)[:COMING_EVENTS_SHOWN],
                   more_events=len(events) > COMING_EVENTS_SHOWN)
    return environment().get_template("web/archive.html.j2").render(context)


def render_feed(items: list[ArchiveEntry], theme: Theme, settings: Settings) -> str:
    context = web_page_context(theme, settings)
    updated = items[0].updated if items else datetime(2000, 1, 1, tzinfo=timezone.utc).isoformat()
    context.update(entries=items, updated=updated)
    return environment().get_template("web/feed.atom.j2").render(context)


def render_events_page(events: Sequence[Any], theme: Theme, settings: Settings) -> str:
    """`/events`: every coming event (newsletter/events/listing.py's ListedEvent) and the calendar feed's address."""
    context = web_page_context(theme, settings)
    context.update(events=list(events), calendar_feed_url=f"{settings.base_url}/events.ics")
    return environment().get_template("web/events.html.j2").render(context)
