"""How long co-production review links and reviewers' comments are kept (run daily by newsletter/maintenance.py).

A review link names who it was for ("Parent Carer Forum steering group"); a comment carries a
reviewer's words and, if they gave it, their name. Both are there to shape one issue. So a link goes
LINK_KEPT_DAYS after it stopped working (expired or withdrawn: long enough for the team to see
whom they shared it with), and a comment NEWSLETTER_REVIEW_COMMENT_DAYS after it was left, once it
is resolved or the issue has gone out. An unresolved comment on an issue still being written is work
in progress and stays, whatever its age.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, exists, or_
from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.issues.models import Issue, IssueStatus
from newsletter.review.models import Comment, ReviewLink

LINK_KEPT_DAYS = 30
# Past these the issue can no longer be reviewed, so nobody will act on an open comment.
_DONE = (IssueStatus.SENT, IssueStatus.CANCELLED)


def remove_old_links(session: Session, settings: Settings, now: datetime) -> int:
    """Delete links that stopped working more than LINK_KEPT_DAYS ago; returns how many.

    Their comments stay (the link is set to nothing on them); a deleted link's page says, as for any
    expired link, that it no longer works.
    """
    cutoff = now - timedelta(days=LINK_KEPT_DAYS)
    result = session.execute(
        delete(ReviewLink).where(or_(ReviewLink.expires_at <= cutoff, ReviewLink.revoked_at <= cutoff))
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)


def remove_old_comments(session: Session, settings: Settings, now: datetime) -> int:
    """Delete comments older than the setting that are resolved or on an issue that went out or was stopped."""
    cutoff = now - timedelta(days=settings.review_comment_days)
    issue_done = exists().where(Issue.id == Comment.issue_id, Issue.status.in_([status.value for status in _DONE]))
    result = session.execute(
        delete(Comment).where(Comment.created_at <= cutoff, or_(Comment.resolved_at.is_not(None), issue_done))
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)


__all__ = ["LINK_KEPT_DAYS", "remove_old_comments", "remove_old_links"]
