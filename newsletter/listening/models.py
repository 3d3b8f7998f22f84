"""Feedback answers, poll answers and readers' comments: what is kept, and nothing that says who.

An answer row is keyed by the issue (and poll) and `browser`, the SHA-256 of a random value the
answering browser keeps in a cookie: the unique key on them is what makes a changed answer replace
the old one, even when two requests from one browser arrive at once. The hash cannot be turned back
into the cookie, the cookie holds nothing but that random value, and neither is linked to a reader.

Answers carry no time, and comments no browser hash, so a comment cannot be tied to an answer row,
to another comment or to the moment an email was opened; comments are deleted after
NEWSLETTER_COMMENT_RETENTION_DAYS.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from newsletter.db import Base, UTCDateTime, utcnow
from newsletter.issues import models as _issues  # noqa: F401  (the issues table the foreign keys name)


class Usefulness(str, enum.Enum):
    USEFUL = "useful"
    NOT_USEFUL = "not_useful"


def _values(kind: type[enum.Enum]) -> list[str]:
    return [member.value for member in kind]


class FeedbackAnswer(Base):
    """One browser's answer to "Was this newsletter useful?" for one issue."""

    __tablename__ = "feedback_answers"
    __table_args__ = (UniqueConstraint("issue_id", "browser", name="uq_feedback_answers_issue_browser"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"), index=True)
    browser: Mapped[str] = mapped_column(String(64))
    answer: Mapped[Usefulness] = mapped_column(
        Enum(Usefulness, name="usefulness", native_enum=False, length=20, values_callable=_values)
    )


class PollAnswer(Base):
    """One browser's answer to one poll: `choice` is the answer's position (from 0), or None for "something else"."""

    __tablename__ = "poll_answers"
    __table_args__ = (UniqueConstraint("issue_id", "poll_key", "browser", name="uq_poll_answers_issue_poll_browser"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"), index=True)
    # The poll block's key (Issue.block_keys): a sent issue's blocks no longer change, so it names one poll.
    poll_key: Mapped[str] = mapped_column(String(16))
    browser: Mapped[str] = mapped_column(String(64))
    choice: Mapped[int | None] = mapped_column(Integer, nullable=True)


class CommentSource(str, enum.Enum):
    FEEDBACK = "feedback"
    POLL = "poll"


class ReaderComment(Base):
    """Words a reader typed with an answer: the feedback comment or a poll's "something else". No name, no address."""

    __tablename__ = "reader_comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"), index=True)
    source: Mapped[CommentSource] = mapped_column(
        Enum(CommentSource, name="comment_source", native_enum=False, length=20, values_callable=_values)
    )
    # For a feedback comment, the answer it came with ("useful"), which the team needs to read it by.
    answer: Mapped[str] = mapped_column(String(20), default="")
    # For a poll's "something else", the poll's block key.
    poll_key: Mapped[str] = mapped_column(String(16), default="")
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
