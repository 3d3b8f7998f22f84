"""The Issue row: one newsletter issue, its blocks as JSON, and where it is in its lifecycle."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Enum, ForeignKey, Integer, String, Text, true
from sqlalchemy.orm import Mapped, mapped_column

from newsletter.accounts import models as _accounts  # noqa: F401  (the users table the foreign keys name)
from newsletter.db import Base, UTCDateTime, utcnow


class IssueStatus(str, enum.Enum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    SCHEDULED = "scheduled"
    SENDING = "sending"
    SENT = "sent"
    CANCELLED = "cancelled"


# Which moves the lifecycle allows; anything else is refused with InvalidTransition.
TRANSITIONS: dict[IssueStatus, frozenset[IssueStatus]] = {
    IssueStatus.DRAFT: frozenset({IssueStatus.IN_REVIEW, IssueStatus.CANCELLED}),
    IssueStatus.IN_REVIEW: frozenset({IssueStatus.DRAFT, IssueStatus.APPROVED, IssueStatus.CANCELLED}),
    # Back to review when an approved issue is changed (newsletter/issues/editing.py).
    IssueStatus.APPROVED: frozenset(
        {IssueStatus.DRAFT, IssueStatus.IN_REVIEW, IssueStatus.SCHEDULED, IssueStatus.SENDING, IssueStatus.CANCELLED}
    ),
    IssueStatus.SCHEDULED: frozenset({IssueStatus.APPROVED, IssueStatus.SENDING, IssueStatus.CANCELLED}),
    IssueStatus.SENDING: frozenset({IssueStatus.SENT, IssueStatus.CANCELLED}),
    IssueStatus.SENT: frozenset(),
    IssueStatus.CANCELLED: frozenset({IssueStatus.DRAFT}),
}


class Issue(Base):
    __tablename__ = "issues"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The slug is the web view's address; it never changes once created, so links in sent mail keep working.
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    subject: Mapped[str] = mapped_column(String(300))
    preheader: Mapped[str] = mapped_column(String(300), default="")
    language: Mapped[str] = mapped_column(String(35), default="en-GB")
    issue_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    blocks: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # Ends with "Was this newsletter useful?" (newsletter/listening/); the team can turn it off per issue.
    feedback: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    status: Mapped[IssueStatus] = mapped_column(
        # Stored as plain text (not a database enum) so adding a state is a one-line migration.
        Enum(IssueStatus, name="issue_status", native_enum=False, length=20,
             values_callable=lambda e: [m.value for m in e]),
        default=IssueStatus.DRAFT,
        index=True,
    )
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # One short random key per block, in the same order as `blocks`: comments and the composer's
    # forms name a block by key, so they stay with it when blocks are added, moved or deleted.
    block_keys: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
