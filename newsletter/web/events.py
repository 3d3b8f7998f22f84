"""Events for families: the page of coming events, the calendar feed they can subscribe to, and the
`.ics` file behind each event's "Add to your calendar" link.

`/events` and `/events.ics` list the events of sent issues that have not passed. `/events/<slug>/<n>.ics`
is one event's file: its link carries a signature (newsletter/events/links.py), so it works for whoever
was sent it, even before the issue is public (a test copy, a review link), with no sign-in; without the
right signature every address answers the same "not found", so nobody finds unsent issues by trying
names. Nothing here knows who is reading.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, request

from newsletter.events.links import is_genuine
from newsletter.events.listing import coming_events, event_at, event_calendar, feed_calendar, listed
from newsletter.issues import service, store
from newsletter.render.archive import render_events_page
from newsletter.web import pages
from newsletter.web.public import _with_reading_options as with_reading_options

events = Blueprint("events", __name__)


def _calendar(body: bytes, filename: str | None = None) -> Response:
    response = Response(body, mimetype="text/calendar")
    if filename:
        # A file to open: phones and calendar apps offer to add it, and its name says what it is.
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    # Subscribed calendars ask again every few hours: an unchanged feed is answered 304, with no body.
    response.add_etag()
    return response.make_conditional(request)


@events.get("/events")
@events.get("/events/")
def coming() -> Response:
    settings = pages.settings()
    with pages.session_scope() as session:
        items = listed(coming_events(session, settings), settings)
    response = Response(with_reading_options(render_events_page(items, pages.theme(), settings)), mimetype="text/html")
    response.cache_control.public = True
    response.cache_control.max_age = 300
    return response


@events.get("/events.ics")
def feed() -> Response:
    """Every coming event of the sent issues, for a calendar app to subscribe to."""
    with pages.session_scope() as session:
        body = feed_calendar(session, pages.settings(), pages.theme().masthead)
    response = _calendar(body)
    response.cache_control.public = True
    response.cache_control.max_age = 900
    return response


@events.get("/events/<slug>/<int:position>.ics")
def one(slug: str, position: int) -> Response:
    settings = pages.settings()
    if not is_genuine(slug, position, request.args.get("s", ""), settings.secret_key):
        abort(404)
    with pages.session_scope() as session:
        issue = store.find_issue(session, slug)
        event = event_at(issue, position, settings) if issue is not None else None
        if issue is None or event is None:
            abort(404)  # taken out of the draft since the copy holding the link was made
        public = service.is_public(issue)
        body = event_calendar(event, settings, public=public)
    response = _calendar(body, f"{slug}-event-{position}.ics")
    if public:
        response.cache_control.public = True
        response.cache_control.max_age = 300
    else:
        # A draft's event: for the person holding the link, not for caches or search engines.
        response.cache_control.no_store = True
        response.headers["X-Robots-Tag"] = "noindex"
    return response
