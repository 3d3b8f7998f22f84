"""Co-production review in the browser: the team shares links and answers comments; reviewers comment.

Reviewers are parent carers from the local forum. They get no account: the link is enough, and
the page asks only for a name to sign the comment with. The page carries `noindex` and
`Referrer-Policy: same-origin`, so the link does not leak to the sites the newsletter links to.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, request, url_for
from flask import session as browser_session

from newsletter.issues import editing, store
from newsletter.render.pipeline import web_context
from newsletter.review import service
from newsletter.web import pages
from newsletter.web.auth import current_user, login_required
from newsletter.web.blockforms import FORMS

review = Blueprint("review", __name__)


# --- the team's side ------------------------------------------------------------------------------


@review.route("/team/issues/<slug>/review-links", methods=["POST"])
@login_required
def share(slug: str) -> Response:
    with pages.session_scope() as session:
        issue = store.find_issue(session, slug)
        if issue is None:
            abort(404)
        try:
            url = service.create_link(session, issue, request.form.get("label", ""), current_user().id, pages.settings())
        except service.ReviewError as error:
            flash(str(error), "error")
            return redirect(url_for("composer.edit", slug=slug, _anchor="review"))
    flash("Review link created. Copy it from the box below and send it to your reviewers.")
    # Shown once on the next page; kept out of the address so it is not in history or access logs.
    browser_session["new_review_url"] = url
    return redirect(url_for("composer.edit", slug=slug, _anchor="review"))


@review.route("/team/review-links/<int:link_id>/withdraw", methods=["POST"])
@login_required
def withdraw(link_id: int) -> Response:
    with pages.session_scope() as session:
        link = service.revoke(session, link_id)
        if link is None:
            abort(404)
        issue = session.get(store.Issue, link.issue_id)
        slug = issue.slug if issue else ""
    flash("The review link no longer works.")
    return redirect(url_for("composer.edit", slug=slug, _anchor="review"))


@review.route("/team/comments/<int:comment_id>/resolve", methods=["POST"])
@login_required
def resolve(comment_id: int) -> Response:
    with pages.session_scope() as session:
        comment = service.resolve(session, comment_id, current_user().id)
        if comment is None:
            abort(404)
        issue = session.get(store.Issue, comment.issue_id)
        slug, key = (issue.slug if issue else ""), comment.block_key
    flash("Comment marked as resolved.")
    return redirect(url_for("composer.edit", slug=slug, _anchor=f"block-{key}" if key else "review"))


# --- the reviewer's side --------------------------------------------------------------------------


def _page(template: str, status: int = 200, **context: Any) -> Response:
    body = pages.render_page(f"team/{template}", **context)
    response = Response(body, status=status, mimetype="text/html")
    response.headers["X-Robots-Tag"] = "noindex"
    response.headers["Referrer-Policy"] = "same-origin"
    response.cache_control.no_store = True
    return response


def _refused(error: service.ReviewError) -> Response:
    return _page("review_refused.html.j2", 400, message=str(error))


def _review_page(session: Any, link: Any, issue: Any, token: str, *, status: int = 200,
                 problem: tuple[str, str] | None = None, values: dict[str, str] | None = None) -> Response:
    settings = pages.settings()
    context = web_context(store.document(issue), issue.slug, pages.theme(), settings)
    context["noindex"] = True
    return _page("review.html.j2", status, issue_title=issue.title, keys=editing.keys_of(issue),
                 comments=service.comments_by_block(session, issue.id), token=token, link_label=link.label,
                 thanks=request.args.get("thanks"), problem=problem, values=values or {},
                 block_titles={t: f.title for t, f in FORMS.items()}, **context)


@review.route("/review/<token>", methods=["GET"])
def read(token: str) -> Response:
    with pages.session_scope() as session:
        try:
            link, issue = service.open_link(session, token, pages.settings())
        except service.ReviewError as error:
            return _refused(error)
        return _review_page(session, link, issue, token)


@review.route("/review/<token>/comments", methods=["POST"])
def comment(token: str) -> Response:
    key = request.form.get("block", "")
    with pages.session_scope() as session:
        try:
            link, issue = service.open_link(session, token, pages.settings())
        except service.ReviewError as error:
            return _refused(error)
        try:
            service.add_comment(session, issue, key, request.form.get("author", ""), request.form.get("body", ""),
                                link=link)
        except service.ReviewError as error:
            # Keep what they wrote: the page comes back with their words in the box and the reason beside it.
            session.rollback()
            return _review_page(session, link, issue, token, status=400, problem=(key, str(error)),
                                values=request.form.to_dict())
    anchor = f"block-{key}" if key else "general"
    return redirect(url_for("review.read", token=token, thanks=key or "general", _anchor=anchor))
