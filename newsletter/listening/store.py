"""Data access for answers and comments: the only place that queries these tables.

Answers are written with one statement that inserts the browser's row or, when the browser already
answered, changes it (`INSERT ... ON CONFLICT DO UPDATE` on the unique key): two requests from one
browser at once cannot make two rows, so a changed answer always moves the count, never adds to it.
Counts are read by counting rows, so there is no total to fall out of step.

`feedback_counts` and `poll_results` are what the campaign report reads.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from newsletter.config import Settings, get_settings
from newsletter.db import utcnow
from newsletter.issues.blocks import PollBlock
from newsletter.issues.models import Issue
from newsletter.listening.models import CommentSource, FeedbackAnswer, PollAnswer, ReaderComment, Usefulness
from newsletter.listening.polls import PollState, Result, is_closed, results


def browser_hash(value: str) -> str:
    """What is stored for a browser's random cookie value: a hash, which cannot be turned back into it."""
    return hashlib.sha256(value.encode()).hexdigest()


def _upsert(session: Session, model: Any, values: dict[str, Any], key: list[str], changed: dict[str, Any]) -> None:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(model).values(**values)
    session.execute(statement.on_conflict_do_update(index_elements=key, set_=changed))


# --- feedback ---------------------------------------------------------------------------------------


def record_feedback(session: Session, issue_id: int, browser: str, answer: Usefulness) -> None:
    """This browser's answer for the issue: a new row, or its earlier answer changed."""
    _upsert(session, FeedbackAnswer, {"issue_id": issue_id, "browser": browser, "answer": answer},
            ["issue_id", "browser"], {"answer": answer})


def current_feedback(session: Session, issue_id: int, browser: str) -> Usefulness | None:
    return session.scalar(select(FeedbackAnswer.answer).where(
        FeedbackAnswer.issue_id == issue_id, FeedbackAnswer.browser == browser))


def feedback_counts(session: Session, issue_id: int) -> dict[str, int]:
    """{"useful": n, "not_useful": n, "comments": n}: answers to "Was this newsletter useful?" and the
    feedback comments still kept (comments are deleted after the retention period; answers are not)."""
    counts = {"useful": 0, "not_useful": 0}
    rows = session.execute(select(FeedbackAnswer.answer, func.count()).where(FeedbackAnswer.issue_id == issue_id)
                           .group_by(FeedbackAnswer.answer))
    for answer, count in rows:
        counts[Usefulness(answer).value] = count
    comments = session.scalar(select(func.count()).select_from(ReaderComment).where(
        ReaderComment.issue_id == issue_id, ReaderComment.source == CommentSource.FEEDBACK)) or 0
    return {**counts, "comments": comments}


# --- polls ------------------------------------------------------------------------------------------


def record_poll_answer(session: Session, issue_id: int, poll_key: str, browser: str, choice: int | None) -> None:
    """This browser's answer to the poll (None: "something else"): a new row, or its earlier answer changed."""
    _upsert(session, PollAnswer, {"issue_id": issue_id, "poll_key": poll_key, "browser": browser, "choice": choice},
            ["issue_id", "poll_key", "browser"], {"choice": choice})


def current_poll_answer(session: Session, issue_id: int, poll_key: str, browser: str) -> tuple[bool, int | None]:
    """(answered, choice) for this browser and poll."""
    row = session.execute(select(PollAnswer.choice).where(
        PollAnswer.issue_id == issue_id, PollAnswer.poll_key == poll_key, PollAnswer.browser == browser)).first()
    return (row is not None, row[0] if row is not None else None)


def poll_counts(session: Session, issue_id: int) -> dict[str, dict[int | None, int]]:
    """Answers per choice, per poll key."""
    found: dict[str, dict[int | None, int]] = {}
    rows = session.execute(select(PollAnswer.poll_key, PollAnswer.choice, func.count())
                           .where(PollAnswer.issue_id == issue_id).group_by(PollAnswer.poll_key, PollAnswer.choice))
    for key, choice, count in rows:
        found.setdefault(key, {})[choice] = count
    return found


def poll_key(issue: Issue, index: int) -> str:
    """The key naming the poll at block position `index`, read without changing the issue (a page that only
    shows must not write)."""
    keys = issue.block_keys or []
    return keys[index] if 0 <= index < len(keys) else f"#{index}"


@dataclass(frozen=True)
class PollSummary:
    """One poll of an issue with its results, as the composer shows it."""

    key: str
    index: int
    poll: PollBlock
    total: int
    results: tuple[Result, ...]


def poll_summaries(session: Session, issue: Issue) -> list[PollSummary]:
    """Every poll in the issue, in the issue's order, with its counts."""
    counts = poll_counts(session, issue.id)
    found = []
    for index, block in enumerate(issue.blocks):
        if block.get("type") != "poll":
            continue
        key = poll_key(issue, index)
        poll = PollBlock.model_validate(block, context={"stored": True})
        total, shown = results(poll, counts.get(key, {}))
        found.append(PollSummary(key, index, poll, total, shown))
    return found


def poll_states(session: Session, issue: Issue, today: date) -> dict[int, PollState]:
    """What the web view shows of each poll, by block position: results only once the poll has closed."""
    return {summary.index: PollState(closed, summary.total if closed else 0, summary.results if closed else ())
            for summary in poll_summaries(session, issue)
            for closed in [is_closed(summary.poll, today)]}


def poll_results(session: Session, issue_id: int) -> list[dict[str, Any]]:
    """[{"question": str, "results": {answer: count}}] for each poll in the issue, in its order.

    "Something else" is an answer of its own when the poll offers it; what people wrote there is in
    the comments.
    """
    issue = session.get(Issue, issue_id)
    if issue is None:
        return []
    return [{"question": summary.poll.question, "results": {result.label: result.count for result in summary.results}}
            for summary in poll_summaries(session, issue)]


# --- comments ---------------------------------------------------------------------------------------


def add_comment(session: Session, issue_id: int, source: CommentSource, body: str, *, answer: str = "",
                poll_key: str = "") -> ReaderComment:
    comment = ReaderComment(issue_id=issue_id, source=source, body=body, answer=answer, poll_key=poll_key,
                            created_at=utcnow())
    session.add(comment)
    session.flush()
    return comment


def comments(session: Session, issue_id: int) -> list[ReaderComment]:
    """The issue's comments, unread first, newest first within each."""
    return list(session.scalars(select(ReaderComment).where(ReaderComment.issue_id == issue_id)
                                .order_by(ReaderComment.read_at.is_not(None), ReaderComment.created_at.desc(),
                                          ReaderComment.id.desc())))


def unread_count(session: Session, issue_id: int) -> int:
    return session.scalar(select(func.count()).select_from(ReaderComment).where(
        ReaderComment.issue_id == issue_id, ReaderComment.read_at.is_(None))) or 0


def mark_read(session: Session, comment_id: int, issue_id: int) -> ReaderComment | None:
    comment = session.get(ReaderComment, comment_id)
    if comment is None or comment.issue_id != issue_id:
        return None
    if comment.read_at is None:
        comment.read_at = utcnow()
    return comment


def delete_comment(session: Session, comment_id: int, issue_id: int) -> bool:
    result = session.execute(delete(ReaderComment).where(ReaderComment.id == comment_id,
                                                         ReaderComment.issue_id == issue_id))
    return bool(result.rowcount)


def purge_old_comments(session: Session, now: datetime, retention_days: int | None = None) -> int:
    """Delete every comment older than the retention period (NEWSLETTER_COMMENT_RETENTION_DAYS); how many went.

    Comments are free text and may hold personal data a family chose to write, so they are not kept
    for ever; the answers' counts stay.
    """
    days = retention_days if retention_days is not None else get_settings().comment_retention_days
    result = session.execute(delete(ReaderComment).where(ReaderComment.created_at < now - timedelta(days=days)))
    return int(result.rowcount or 0)


def purge_comments_job(session: Session, settings: Settings, now: datetime) -> int:
    """`purge_old_comments` as a maintenance job (newsletter/maintenance.py), with `settings`' retention period."""
    return purge_old_comments(session, now, settings.comment_retention_days)
