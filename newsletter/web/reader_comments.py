"""What families said about an issue, for the team: feedback counts, poll results and comments.

Shown on the issue's page in the composer once the issue has gone out (`panel`). A comment is shown
as the words typed, escaped, never as HTML or Markdown, and never with a name or address (none is
stored). The team marks comments read and deletes them; both need a signed-in team member and the
form's CSRF token, like every team form.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, url_for
from sqlalchemy.orm import Session

from newsletter.issues import store as issues
from newsletter.issues.models import Issue
from newsletter.issues.service import is_public
from newsletter.listening import polls
from newsletter.listening import store as answers
from newsletter.web import pages
from newsletter.web.auth import login_required

reader_comments = Blueprint("reader_comments", __name__, url_prefix="/team")


def panel(session: Session, issue: Issue) -> dict[str, Any] | None:
    """What the issue page's "What families said" section shows; None before the issue is sent."""
    if not is_public(issue):
        return None
    found = answers.comments(session, issue.id)
    summaries = answers.poll_summaries(session, issue)
    questions = {summary.key: summary.poll.question for summary in summaries}
    return {"feedback": answers.feedback_counts(session, issue.id), "polls": summaries, "comments": found,
            "unread": sum(1 for comment in found if comment.read_at is None), "questions": questions,
            "retention_days": pages.settings().comment_retention_days, "today": polls.today(pages.settings())}


def _back(slug: str) -> Response:
    return redirect(url_for("composer.edit", slug=slug, _anchor="listening-title"))  # type: ignore[return-value]


@reader_comments.route("/issues/<slug>/reader-comments/<int:comment_id>/read", methods=["POST"])
@login_required
def mark_read(slug: str, comment_id: int) -> Response:
    with pages.session_scope() as session:
        issue = issues.find_issue(session, slug)
        if issue is None or answers.mark_read(session, comment_id, issue.id) is None:
            abort(404)
    flash("Comment marked as read.")
    return _back(slug)


@reader_comments.route("/issues/<slug>/reader-comments/<int:comment_id>/delete", methods=["POST"])
@login_required
def delete(slug: str, comment_id: int) -> Response:
    with pages.session_scope() as session:
        issue = issues.find_issue(session, slug)
        if issue is None:
            abort(404)
        deleted = answers.delete_comment(session, comment_id, issue.id)
    flash("Comment deleted." if deleted else "That comment had already been deleted.")
    return _back(slug)
