"""Review links and comments: what the composer and the reviewer's page both use.

A review link is a signed token naming a `ReviewLink` row. The signature stops anyone guessing a
link; the row lets the team see who has one and withdraw it; its expiry date is checked here, not
only by the token's age, so a withdrawn or expired link stops working at once.

The team can see and copy an active link again, so nothing secret needs storing: the token is signed
with the row's id and the moment the row was made, so signing again gives the very same link. A copy
of the database alone does not give working links (they need NEWSLETTER_SECRET_KEY), and a link can
be shown again only to someone signed in to the composer, who could make a new one anyway.

A reviewer's words are never lost: a comment is stored, or refused with a reason for the page to show
beside the text they typed. The name is optional ("A reviewer" when empty), and a comment on a part
removed since the page was opened is kept on the whole issue instead of refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.db import utcnow
from newsletter.errors import NewsletterError
from newsletter.issues.models import Issue, IssueStatus
from newsletter.review.models import Comment, ReviewLink
from newsletter.tokens import BadToken, unsign

PURPOSE = "review"
MAX_COMMENT = 4000
ANONYMOUS = "A reviewer"
# Reviewers may read and comment while an issue is being prepared, not after it went out.
REVIEWABLE = (IssueStatus.DRAFT, IssueStatus.IN_REVIEW, IssueStatus.APPROVED)


class ReviewError(NewsletterError):
    """Why a review link or comment was refused, in words for the reviewer."""


class CommentRefused(ReviewError):
    """A comment that was not stored; `field` names the form field to put right ("body")."""

    def __init__(self, message: str, field: str = "body"):
        self.field = field
        super().__init__(message)


@dataclass(frozen=True)
class Posted:
    comment: Comment
    # Set when the comment was kept somewhere other than where it was written.
    note: str = ""


@dataclass(frozen=True)
class ActiveLink:
    id: int
    label: str
    expires_at: datetime
    created_at: datetime
    url: str


def create_link(session: Session, issue: Issue, label: str, user_id: int | None, settings: Settings) -> str:
    label = " ".join(label.split())[:200]
    if not label:
        raise ReviewError("Say who the link is for, such as “Parent Carer Forum reviewers”.")
    now = utcnow()
    link = ReviewLink(issue_id=issue.id, label=label, created_by_id=user_id, created_at=now,
                      expires_at=now + timedelta(days=settings.review_link_days))
    session.add(link)
    session.flush()
    return review_url(settings, link)


def review_url(settings: Settings, link: ReviewLink) -> str:
    """The link for `link`: the same every time it is asked for, so it can be shown and copied again."""
    made = int(link.created_at.timestamp())

    class _MadeWhenTheRowWas(TimestampSigner):
        def get_timestamp(self) -> int:
            return made

    # The salt `newsletter.tokens` uses for this purpose, so `unsign` there reads it.
    serializer = URLSafeTimedSerializer(settings.secret_key, salt=f"newsletter.{PURPOSE}", signer=_MadeWhenTheRowWas)
    return f"{settings.base_url}/review/{serializer.dumps(link.id)}"


def open_link(session: Session, token: str, settings: Settings) -> tuple[ReviewLink, Issue]:
    try:
        link_id = unsign(PURPOSE, token, max_age=settings.review_link_days * 86400, secret=settings.secret_key)
    except BadToken:
        raise ReviewError("This review link is not valid or has expired. Ask the Local Offer team for a new one.")
    link = session.get(ReviewLink, link_id) if isinstance(link_id, int) else None
    if link is None or link.revoked_at is not None or link.expires_at <= utcnow():
        raise ReviewError("This review link has been withdrawn or has expired. Ask the Local Offer team for a new one.")
    issue = session.get(Issue, link.issue_id)
    if issue is None or issue.status not in REVIEWABLE:
        raise ReviewError("This issue is no longer open for review. Thank you for your help.")
    return link, issue


def active_links(session: Session, issue_id: int, settings: Settings | None = None) -> list[Any]:
    """Links that work now, oldest first; with `settings`, each with its address to show and copy again."""
    now = utcnow()
    found = list(session.scalars(
        select(ReviewLink).where(ReviewLink.issue_id == issue_id, ReviewLink.revoked_at.is_(None),
                                 ReviewLink.expires_at > now).order_by(ReviewLink.created_at)
    ))
    if settings is None:
        return found
    return [ActiveLink(link.id, link.label, link.expires_at, link.created_at, review_url(settings, link))
            for link in found]


def revoke(session: Session, link_id: int) -> ReviewLink | None:
    link = session.get(ReviewLink, link_id)
    if link is not None and link.revoked_at is None:
        link.revoked_at = utcnow()
    return link


def add_comment(session: Session, issue: Issue, block_key: str, author: str, body: str, *,
                link: ReviewLink | None = None, user_id: int | None = None) -> Posted:
    """Store a comment, or raise CommentRefused saying which field to put right and how."""
    body = body.strip()
    author = " ".join(author.split())[:200] or ANONYMOUS
    if not body:
        raise CommentRefused("Write your comment in the box before sending it.")
    if len(body) > MAX_COMMENT:
        raise CommentRefused(f"Your comment is {len(body)} characters long; comments can be up to {MAX_COMMENT}. "
                             "Shorten it, or send the rest as a second comment.")
    note = ""
    if block_key and block_key not in (issue.block_keys or []):
        # The part was removed since the page was opened: keep the words, on the whole issue.
        block_key = ""
        note = ("The part you commented on has been removed from the draft since you opened the page, "
                "so your comment was kept as a comment on the whole newsletter.")
    comment = Comment(issue_id=issue.id, block_key=block_key, author_name=author, body=body,
                      review_link_id=link.id if link else None, author_user_id=user_id)
    session.add(comment)
    session.flush()
    return Posted(comment, note)


def unresolved_count(session: Session, issue_id: int) -> int:
    return session.scalar(select(func.count()).select_from(Comment).where(
        Comment.issue_id == issue_id, Comment.resolved_at.is_(None))) or 0


def comments_by_block(session: Session, issue_id: int, *, include_resolved: bool = False) -> dict[str, list[Any]]:
    query = select(Comment).where(Comment.issue_id == issue_id).order_by(Comment.created_at, Comment.id)
    if not include_resolved:
        query = query.where(Comment.resolved_at.is_(None))
    found: dict[str, list[Any]] = {}
    for comment in session.scalars(query):
        found.setdefault(comment.block_key, []).append(comment)
    return found


def resolve(session: Session, comment_id: int, user_id: int) -> Comment | None:
    comment = session.get(Comment, comment_id)
    if comment is not None and comment.resolved_at is None:
        comment.resolved_at = utcnow()
        comment.resolved_by_id = user_id
    return comment
