"""Public pages: web views of sent issues, the archive, the feed, media, signed draft previews and
the accessibility statement.

Nothing here knows who is reading: no cookies, no personal data, no tracking. A web view's visits are
counted as one number per issue (newsletter/counts/), nothing else. The reading options
(bigger text, more space, high contrast, dark mode, print) are remembered by the reader's own browser,
in its local storage, and never sent to us.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, g, redirect, request, send_file
from markupsafe import escape
from sqlalchemy.orm import Session

from newsletter.counts import store as counts
from newsletter.counts import visitors
from newsletter.events.listing import coming_events, listed
from newsletter.issues import service, store
from newsletter.issues.media import resolve_media_path
from newsletter.issues.models import Issue
from newsletter.listening import polls
from newsletter.listening import store as answers
from newsletter.render.archive import entries, render_archive, render_feed
from newsletter.render.pipeline import render_web
from newsletter.render.statement import render_statement
from newsletter.tokens import BadToken, unsign
from newsletter.web import pages

public = Blueprint("public", __name__)

PREVIEW_PURPOSE = "issue-preview"
PREVIEW_MAX_AGE = 14 * 24 * 3600


READER_SCRIPT = "reader.js"


def _with_reading_options(html: str) -> str:
    """Add the script that switches on the reading options to a public page as the web app serves it.

    The rendered pages carry no script at all (tests/render holds the web view to that, and `render` and
    `publish` write them as they are), so the one first-party file is added here, on the way out. The
    page is complete without it: the options stay hidden until the script shows them.
    """
    src = escape(f"{pages.settings().base_url}/static/{READER_SCRIPT}")
    return html.replace("</head>", f'  <script src="{src}" defer></script>\n</head>', 1)


@public.get("/")
def home() -> Response:
    return redirect("/issues/")  # type: ignore[return-value]


@public.get("/issues/")
def archive() -> str:
    query = request.args.get("q", "").strip()
    with pages.session_scope() as session:
        issues = store.sent_issues(session)
        if query:
            needle = query.casefold()
            issues = [i for i in issues if needle in f"{i.title} {i.preheader}".casefold()]
        items = entries(issues, pages.settings())
        events = listed(coming_events(session, pages.settings()), pages.settings())
    return _with_reading_options(render_archive(items, pages.theme(), pages.settings(), query=query, events=events))


@public.get("/issues/feed.atom")
def feed() -> Response:
    with pages.session_scope() as session:
        items = entries(store.sent_issues(session), pages.settings())
    body = render_feed(items, pages.theme(), pages.settings())
    return Response(body, mimetype="application/atom+xml")


@public.get("/issues/<slug>")
@public.get("/issues/<slug>/")
def web_view(slug: str) -> Response:
    with pages.session_scope() as session:
        issue = store.find_issue(session, slug)
        if issue is None or not service.is_public(issue):
            abort(404)
        html = _web_copy(session, issue)
        # A number per issue, nothing about the visitor; the team's own look (signed in) is not a visit.
        if g.get("user") is None and visitors.is_person(request.method, request.headers):
            counts.count_web_view(session, issue.id)
    response = Response(_with_reading_options(html), mimetype="text/html")
    response.cache_control.public = True
    response.cache_control.max_age = 300
    return response


def _web_copy(session: Session, issue: Issue) -> str:
    """The issue's web copy; with polls, rendered on each visit, since a closed poll shows its latest results."""
    doc = store.document(issue)
    if not any(block.type == "poll" for block in doc.blocks):
        return service.rendered(issue, pages.theme(), pages.settings()).web_html
    states = answers.poll_states(session, issue, polls.today(pages.settings()))
    return render_web(doc, issue.slug, pages.theme(), pages.settings(), polls=states)


@public.get("/preview/<token>")
def preview(token: str) -> Response:
    """A draft's web view for whoever holds a signed link (the team, reviewers); never indexed."""
    try:
        slug = unsign(PREVIEW_PURPOSE, token, max_age=PREVIEW_MAX_AGE, secret=pages.settings().secret_key)
    except BadToken as error:
        abort(400, description=str(error))
    with pages.session_scope() as session:
        issue = store.find_issue(session, slug)
        if issue is None:
            abort(404)
        html = service.rendered(issue, pages.theme(), pages.settings()).web_html
    response = Response(_with_reading_options(html), mimetype="text/html")
    response.headers["X-Robots-Tag"] = "noindex"
    response.cache_control.no_store = True
    return response


@public.get("/accessibility")
@public.get("/accessibility/")
def accessibility() -> str:
    """The accessibility statement the Public Sector Bodies Accessibility Regulations 2018 ask for."""
    return _with_reading_options(render_statement(pages.theme(), pages.settings()))


@public.get("/media/<name>")
def media(name: str) -> Response:
    path = resolve_media_path(name, pages.settings().media_dir)
    if path is None:
        abort(404)
    response = send_file(path, max_age=365 * 24 * 3600)
    return response


@public.get("/test-link")
def test_link() -> str:
    """Where a test copy's personal links lead: they must work as links, and change nobody's subscription."""
    return pages.render_page("error.html.j2", code=200, name="Test copy",
                             page_heading="This link is from a test copy",
                             description="In a reader's copy this link lets them unsubscribe or choose their lists. "
                                         "In a test copy it changes nothing for anyone.")
