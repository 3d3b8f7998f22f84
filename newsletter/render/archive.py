"""The archive page and Atom feed of sent issues, shared by the web app and static publishing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone

from newsletter.config import Settings
from newsletter.issues.models import Issue
from newsletter.render.pipeline import web_page_context, web_url
from newsletter.render.templating import environment
from newsletter.theme import Theme


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


def render_archive(items: list[ArchiveEntry], theme: Theme, settings: Settings, query: str = "") -> str:
    context = web_page_context(theme, settings)
    context.update(entries=items, query=query)
    return environment().get_template("web/archive.html.j2").render(context)


def render_feed(items: list[ArchiveEntry], theme: Theme, settings: Settings) -> str:
    context = web_page_context(theme, settings)
    updated = items[0].updated if items else datetime(2000, 1, 1, tzinfo=timezone.utc).isoformat()
    context.update(entries=items, updated=updated)
    return environment().get_template("web/feed.atom.j2").render(context)
