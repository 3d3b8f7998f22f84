"""The click-count redirect, `/r/<issue>/<token>`: count the click as a number, then send the reader on.

The token names a link row of the issue and is signed (counts/links.py); the destination is read from
that row, so no address in a request can make us redirect anywhere else. A changed or foreign token
gets a plain page saying so, never a redirect. Nothing about the visitor is read but the method and
the user agent (to leave out HEAD requests and robots, counts/visitors.py), and nothing is stored but
the count: no cookie, no address, no time.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, redirect, request

from newsletter.counts import links, store, visitors
from newsletter.tokens import BadToken
from newsletter.web import pages

clicks = Blueprint("clicks", __name__)


@clicks.get("/r/<int:issue_id>/<token>")
def follow(issue_id: int, token: str) -> Response:
    settings = pages.settings()
    try:
        link_id = links.read_token(settings, issue_id, token)
    except BadToken as error:
        abort(400, description=f"{error} It does not lead anywhere, so nothing has been opened.")
    with pages.session_scope() as session:
        destination = store.destination(session, issue_id, link_id)
        if destination is None:
            abort(404)
        if (settings.count_clicks and visitors.is_person(request.method, request.headers)
                and store.has_gone_out(session, issue_id)):
            store.count_click(session, issue_id, link_id)
    response = redirect(destination, code=302)
    # Each click asks us again (a cached redirect would not be counted), and the next site is not told
    # where the reader came from.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    return response  # type: ignore[return-value]
