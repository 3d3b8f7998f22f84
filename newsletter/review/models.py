"""Review links handed to parent-carer forum reviewers, and the comments left on an issue's blocks."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from newsletter.accounts import models as _accounts  # noqa: F401  (tables the foreign keys name)
from newsletter.db import Base, UTCDateTime, utcnow
from newsletter.issues import models as _issues  # noqa: F401


class ReviewLink(Base):
    """One shared link. The signed token names this row, so a link can be withdrawn before it expires."""

    __tablename__ = "review_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"), index=True)
    # Who it was for, in the team's words ("Parent Carer Forum steering group"); never an address.
    label: Mapped[str] = mapped_column(String(200))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Comment(Base):
    __tablename__ = "review_comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"), index=True)
    # The block's stable key (Issue.block_keys), so a comment stays with its block when blocks move.
    # Empty for a comment on the whole issue.
    block_key: Mapped[str] = mapped_column(String(16), default="")
    author_name: Mapped[str] = mapped_column(String(200))
    # Set for the team's replies; reviewers have no account, their link is their identity.
    author_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    review_link_id: Mapped[int | None] = mapped_column(
        ForeignKey("review_links.id", ondelete="SET NULL"), nullable=True
    )
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
