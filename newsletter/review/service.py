"""Review links and comments: what the composer and the reviewer's page both use.

A review link is a signed token naming a `ReviewLink` row. The signature stops anyone guessing a
link; the row lets the team see who has one and withdraw it; its expiry date is checked here, not
only by the token's age, so a withdrawn or expired link stops working at once.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.db import utcnow
from newsletter.errors import NewsletterError
from newsletter.issues.models import Issue, IssueStatus
from newsletter.review.models import Comment, ReviewLink
from newsletter.tokens import BadToken, sign, unsign

PURPOSE = "review"
MAX_COMMENT = 4000
# Reviewers may read and comment while an issue is being prepared, not after it went out.
REVIEWABLE = (IssueStatus.DRAFT, IssueStatus.IN_REVIEW, IssueStatus.APPROVED)


class ReviewError(NewsletterError):
    """Why a review link or comment was refused, in words for the reviewer."""


def create_link(session: Session, issue: Issue, label: str, user_id: int | None, settings: Settings) -> str:
    label = " ".join(label.split())[:200]
    if not label:
        raise ReviewError("Say who the link is for, such as “Parent Carer Forum reviewers”.")
    link = ReviewLink(issue_id=issue.id, label=label, created_by_id=user_id,
                      expires_at=utcnow() + timedelta(days=settings.review_link_days))
    session.add(link)
    session.flush()
    return review_url(settings, link)


def review_url(settings: Settings, link: ReviewLink) -> str:
    return f"{settings.base_url}/review/{sign(PURPOSE, link.id, secret=settings.secret_key)}"


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


def active_links(session: Session, issue_id: int) -> list[ReviewLink]:
    now = utcnow()
    return list(session.scalars(
        select(ReviewLink).where(ReviewLink.issue_id == issue_id, ReviewLink.revoked_at.is_(None),
                                 ReviewLink.expires_at > now).order_by(ReviewLink.created_at)
    ))


def revoke(session: Session, link_id: int) -> ReviewLink | None:
    link = session.get(ReviewLink, link_id)
    if link is not None and link.revoked_at is None:
        link.revoked_at = utcnow()
    return link


def add_comment(session: Session, issue: Issue, block_key: str, author: str, body: str, *,
                link: ReviewLink | None = None, user_id: int | None = None) -> Comment:
    body = body.strip()
    author = " ".join(author.split())[:200]
    if not body:
        raise ReviewError("Write your comment in the box before sending it.")
    if len(body) > MAX_COMMENT:
        raise ReviewError(f"Comments can be up to {MAX_COMMENT} characters; this one is {len(body)}.")
    if not author:
        raise ReviewError("Give your name, so the team knows who to thank or ask.")
    if block_key and block_key not in (issue.block_keys or []):
        raise ReviewError("That part of the newsletter has been removed since you opened the page. Reload it.")
    comment = Comment(issue_id=issue.id, block_key=block_key, author_name=author, body=body,
                      review_link_id=link.id if link else None, author_user_id=user_id)
    session.add(comment)
    session.flush()
    return comment


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
