"""Co-production review in the browser: the team shares links and answers comments; reviewers comment.

Reviewers are parent carers from the local forum. They get no account: the link is enough, and a
name is optional. The page carries `noindex` and `Referrer-Policy: same-origin`, so the link does not
leak to the sites the newsletter links to.

A parent's words are never lost without a visible message. A comment is stored and the page comes
back with a thank-you at the top and beside the comment, focus moved there; or it is refused and the
page comes back with their text in the box, an error summary at the top (focused, linking to the
field) and the reason beside the field; if the link stopped working meanwhile, the page that says so
shows their text to copy. Posting a comment needs no CSRF cookie: the signed link in the address is
what allows it (as with the one-click unsubscribe), so a page left open for days or a browser that
blocks cookies still gets its comment through.

The team's side also warns before an issue with unresolved comments is submitted for approval, and
tells the team by email when an issue is submitted, approved or sent back (newsletter/issues/approval_mail.py).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, request, url_for
from flask import session as browser_session
from sqlalchemy.orm import Session

from newsletter.delivery.transport import transport_for
from newsletter.issues import approval_mail, editing, store
from newsletter.issues.models import Issue
from newsletter.render.pipeline import web_context
from newsletter.review import service
from newsletter.review.models import Comment
from newsletter.tokens import BadToken, sign, unsign
from newsletter.web import pages
from newsletter.web.auth import current_user, login_required
from newsletter.web.blockforms import FORMS
from newsletter.web.csrf import csrf_exempt

review = Blueprint("review", __name__)

_SENT = "review-sent"


# --- the team's side ------------------------------------------------------------------------------


@review.route("/team/issues/<slug>/review-links", methods=["POST"])
@login_required
def share(slug: str) -> Response:
    with pages.session_scope() as session:
        issue = store.find_issue(session, slug)
        if issue is None:
            abort(404)
        try:
            url = service.create_link(session, issue, request.form.get("label", ""), current_user().id,
                                      pages.settings())
        except service.ReviewError as error:
            flash(str(error), "error")
            return redirect(url_for("composer.edit", slug=slug, _anchor="review"))
    flash("Review link created. Copy it from the box below and send it to your reviewers.")
    # Marks the new one among the links listed on the next page; kept out of the address so it is not in
    # history or access logs. Every active link is listed there to copy again, not only this one.
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


def confirm_before_submit(slug: str) -> Any:
    """The page asking to confirm a submit while review comments are unresolved, or None to go ahead.

    The composer's submit calls this first. The question is a page of its own, so it works without
    JavaScript; pressing its button posts the submit again with `unresolved_seen` set to the count it showed.
    """
    with pages.session_scope() as session:
        issue = store.find_issue(session, slug)
        if issue is None:
            abort(404)
        count = service.unresolved_count(session, issue.id)
        if count == 0 or request.form.get("unresolved_seen", "") == str(count):
            return None
        return pages.render_team("submit_confirm.html.j2", title=f"Submit with unresolved comments: {issue.title}",
                                 issue=issue, count=count)


def tell_team(session: Session, event: approval_mail.Event, issue: Issue) -> None:
    """Email the people who now need to act on `issue`, once the change is committed (never failing the request)."""
    approval_mail.send_after_commit(session, event, issue, current_user().id, pages.settings(), transport_for)


# --- the reviewer's side --------------------------------------------------------------------------


def _page(template: str, status: int = 200, **context: Any) -> Response:
    body = pages.render_page(f"team/{template}", **context)
    response = Response(body, status=status, mimetype="text/html")
    response.headers["X-Robots-Tag"] = "noindex"
    response.headers["Referrer-Policy"] = "same-origin"
    response.cache_control.no_store = True
    return response


def _refused(error: service.ReviewError, kept: str = "") -> Response:
    return _page("review_refused.html.j2", 400, message=str(error), kept=kept)


def _sent_comment(session: Session, link: Any) -> Comment | None:
    """The comment just sent, named by the signed `sent` value the redirect carried."""
    value = request.args.get("sent", "")
    if not value:
        return None
    try:
        comment_id = unsign(_SENT, value, max_age=86400, secret=pages.settings().secret_key)
    except BadToken:
        return None
    comment = session.get(Comment, comment_id) if isinstance(comment_id, int) else None
    return comment if comment is not None and comment.review_link_id == link.id else None


def _review_page(session: Session, link: Any, issue: Any, token: str, *, status: int = 200,
                 problem: service.CommentRefused | None = None, key: str = "",
                 values: dict[str, str] | None = None) -> Response:
    settings = pages.settings()
    context = web_context(store.document(issue), issue.slug, pages.theme(), settings)
    context["noindex"] = True
    keys = editing.keys_of(issue)
    block_titles = {t: f.title for t, f in FORMS.items()}
    labels = {key: f"part {i + 1} ({block_titles[block['type']].lower()})"
              for i, (key, block) in enumerate(zip(keys, issue.blocks))}
    labels[""] = "the whole newsletter"
    if key not in labels:
        key = ""
    sent = _sent_comment(session, link) if problem is None else None
    return _page("review.html.j2", status, issue_title=issue.title, keys=keys,
                 comments=service.comments_by_block(session, issue.id), token=token, link_label=link.label,
                 sent=sent, sent_note=request.args.get("note", "") if sent else "", problem=problem,
                 problem_key=key, values=values or {}, labels=labels, anonymous=service.ANONYMOUS,
                 max_comment=service.MAX_COMMENT, **context)


@review.route("/review/<token>", methods=["GET"])
def read(token: str) -> Response:
    with pages.session_scope() as session:
        try:
            link, issue = service.open_link(session, token, pages.settings())
        except service.ReviewError as error:
            return _refused(error)
        return _review_page(session, link, issue, token)


@review.route("/review/<token>/comments", methods=["POST"])
@csrf_exempt
def comment(token: str) -> Response:
    key = request.form.get("block", "")
    body = request.form.get("body", "")
    with pages.session_scope() as session:
        try:
            link, issue = service.open_link(session, token, pages.settings())
        except service.ReviewError as error:
            return _refused(error, kept=body)
        try:
            posted = service.add_comment(session, issue, key, request.form.get("author", ""), body, link=link)
        except service.CommentRefused as error:
            # Keep what they wrote: the page comes back with their words in the box and the reason at the top.
            session.rollback()
            return _review_page(session, link, issue, token, status=400, problem=error, key=key,
                                values=request.form.to_dict())
        where = posted.comment.block_key or "general"
        sent = sign(_SENT, posted.comment.id, secret=pages.settings().secret_key)
    return redirect(url_for("review.read", token=token, sent=sent, note="moved" if posted.note else None,
                            _anchor=f"sent-{where}"))
