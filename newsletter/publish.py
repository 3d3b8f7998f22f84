"""Write every public web view, the archive and the feed as static files, for any static host.

The layout mirrors the web app's addresses (`issues/<slug>/index.html`, `issues/feed.atom`,
`events/index.html`, `events.ics`, `events/<slug>/<n>.ics`, `static/`, `media/`), so `NEWSLETTER_BASE_URL`
set to the host's address makes every link work.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.events.listing import coming_events, event_calendar, events_of, feed_calendar, listed
from newsletter.issues import service, store
from newsletter.issues.blocks import picture_fields
from newsletter.paths import templates_dir
from newsletter.render.archive import entries, render_archive, render_events_page, render_feed
from newsletter.render.statement import render_statement
from newsletter.theme import Theme


def publish_site(session: Session, out: Path, theme: Theme, settings: Settings) -> list[Path]:
    issues = store.sent_issues(session)
    written: list[Path] = []

    def write(relative: str, text: str | bytes) -> None:
        path = out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        written.append(path)

    for issue in issues:
        write(f"issues/{issue.slug}/index.html", service.rendered(issue, theme, settings).web_html)
        # The "Add to your calendar" links: a static host ignores their signature and serves the file.
        for event in events_of(issue, settings):
            write(f"events/{issue.slug}/{event.position}.ics", event_calendar(event, settings, public=True))
    items = entries(issues, settings)
    coming = listed(coming_events(session, settings), settings)
    write("issues/index.html", render_archive(items, theme, settings, events=coming))
    write("events/index.html", render_events_page(coming, theme, settings))
    write("events.ics", feed_calendar(session, settings, theme.masthead))
    write("issues/feed.atom", render_feed(items, theme, settings))
    write("accessibility/index.html", render_statement(theme, settings))
    shutil.copytree(templates_dir() / "web" / "static", out / "static", dirs_exist_ok=True)
    used = {
        Path(src).name
        for issue in issues
        for block in issue.blocks
        for src in (block.get(field) for field in picture_fields(block.get("type")))
        if isinstance(src, str) and src.startswith("/media/")
    }
    for name in sorted(used):
        source = settings.media_dir / name
        if source.is_file():
            (out / "media").mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, out / "media" / name)
            written.append(out / "media" / name)
    return written
