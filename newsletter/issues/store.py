"""Data access for issues: the only place that builds queries on the issues table."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import unicodedata

from sqlalchemy import select, update
from sqlalchemy.orm import Session, object_session

from newsletter.db import utcnow
from newsletter.errors import NewsletterError
from newsletter.issues.blocks import IssueDocument
from newsletter.issues.models import TRANSITIONS, Issue, IssueStatus


class IssueNotFound(NewsletterError):
    def __init__(self, slug: str):
        super().__init__(f"no issue with the slug {slug!r}; `newsletter issues list` shows them")


class InvalidTransition(NewsletterError):
    pass


class SlugTaken(NewsletterError):
    pass


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:80].strip("-") or "issue"


def _unique_slug(session: Session, wanted: str) -> str:
    slug, n = wanted, 2
    while session.scalar(select(Issue.id).where(Issue.slug == slug)) is not None:
        slug, n = f"{wanted}-{n}", n + 1
    return slug


def document(issue: Issue) -> IssueDocument:
    return IssueDocument.model_validate(
        {
            "title": issue.title,
            "subject": issue.subject,
            "preheader": issue.preheader,
            "language": issue.language,
            "date": issue.issue_date,
            "slug": issue.slug,
            "feedback": issue.feedback is not False,
            "blocks": issue.blocks,
        },
        context={"stored": True},
    )


def content_version(issue: Issue) -> str:
    """A short fingerprint of everything a reader would see of the issue.

    Forms that act on what a person read (approve) carry it, so a change saved in between is
    noticed instead of being approved unseen.
    """
    content = [issue.title, issue.subject, issue.preheader, issue.language,
               issue.issue_date.isoformat() if issue.issue_date else None, issue.blocks]
    if issue.feedback is False:  # only when off, so issues saved before the setting keep their fingerprint
        content.append({"feedback": False})
    encoded = json.dumps(content, sort_keys=True, ensure_ascii=False, default=str).encode()
    return hashlib.sha256(encoded).hexdigest()[:20]


def _apply(issue: Issue, doc: IssueDocument) -> None:
    issue.title = doc.title
    issue.subject = doc.subject
    issue.preheader = doc.preheader
    issue.language = doc.language
    issue.issue_date = doc.date
    issue.feedback = doc.feedback
    old_blocks, old_keys = list(issue.blocks or []), list(issue.block_keys or [])
    issue.blocks = [block.model_dump(mode="json", exclude_none=True) for block in doc.blocks]
    # A replaced draft keeps a block's key (and so its review comments) while the block at that
    # position is still of the same type; anything else is a new block.
    issue.block_keys = [
        old_keys[i] if i < len(old_keys) and i < len(old_blocks) and old_blocks[i].get("type") == block["type"]
        else secrets.token_urlsafe(6)
        for i, block in enumerate(issue.blocks)
    ]


def create_issue(session: Session, doc: IssueDocument) -> Issue:
    if doc.slug and session.scalar(select(Issue.id).where(Issue.slug == doc.slug)) is not None:
        raise SlugTaken(f"an issue with the slug {doc.slug!r} already exists")
    base = doc.slug or slugify(f"{doc.title} {doc.date.isoformat() if doc.date else ''}")
    issue = Issue(slug=doc.slug or _unique_slug(session, base), status=IssueStatus.DRAFT)
    _apply(issue, doc)
    session.add(issue)
    session.flush()
    return issue


def update_issue(session: Session, issue: Issue, doc: IssueDocument) -> Issue:
    """Change an issue's content; its slug stays, so addresses already sent keep working."""
    if issue.status not in (IssueStatus.DRAFT, IssueStatus.IN_REVIEW):
        raise InvalidTransition(
            f"issue {issue.slug!r} is {issue.status.value}; only a draft or an issue in review can be edited"
        )
    _apply(issue, doc)
    return issue


def get_issue(session: Session, slug: str) -> Issue:
    issue = session.scalar(select(Issue).where(Issue.slug == slug))
    if issue is None:
        raise IssueNotFound(slug)
    return issue


def find_issue(session: Session, slug: str) -> Issue | None:
    return session.scalar(select(Issue).where(Issue.slug == slug))


def list_issues(session: Session, status: IssueStatus | None = None) -> list[Issue]:
    query = select(Issue).order_by(Issue.issue_date.desc().nulls_last(), Issue.id.desc())
    if status is not None:
        query = query.where(Issue.status == status)
    return list(session.scalars(query))


def sent_issues(session: Session) -> list[Issue]:
    """The public archive: only issues that went out, newest first."""
    query = (
        select(Issue)
        .where(Issue.status == IssueStatus.SENT)
        .order_by(Issue.sent_at.desc().nulls_last(), Issue.id.desc())
    )
    return list(session.scalars(query))


def move(issue: Issue, target: IssueStatus) -> None:
    """Move an issue along its lifecycle by a write that only succeeds from the status it was read in.

    Two people (or a person and a worker) acting on the same issue at once cannot both move it: the
    second write finds the status changed and is refused, instead of repeating or undoing the first.
    """
    if target not in TRANSITIONS[issue.status]:
        raise InvalidTransition(f"issue {issue.slug!r} cannot go from {issue.status.value} to {target.value}")
    session = object_session(issue)
    values: dict[str, object] = {"status": target}
    if target is IssueStatus.SENT:
        values["sent_at"] = utcnow()
    if session is not None and issue.id is not None:
        result = session.execute(
            update(Issue).where(Issue.id == issue.id, Issue.status == issue.status).values(**values)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            current = session.scalar(select(Issue.status).where(Issue.id == issue.id))
            raise InvalidTransition(
                f"issue {issue.slug!r} was changed by someone else meanwhile (it is now "
                f"{current.value.replace('_', ' ') if current else 'gone'}); reload it and try again"
            )
        session.refresh(issue, ["status", "sent_at", "updated_at"])
        return
    issue.status = target
    if target is IssueStatus.SENT:
        issue.sent_at = values["sent_at"]  # type: ignore[assignment]
