"""Block drafts: what a team member has typed into a block form and not yet saved, kept on the server.

The composer's autosave (templates/web/static/autosave.js) posts the open block form here as it is
typed, so a closed tab, a crash or a lost connection costs at most a few seconds of typing. A draft
never changes the issue: it is one row per (person, issue, block), offered back on that person's
form ("Carry on where you left off") and deleted when the block is saved or the draft discarded.

A block being added has no key yet; its draft is kept under `new-<type>` until it is added.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from newsletter.accounts import models as _accounts  # noqa: F401  (the users table the foreign keys name)
from newsletter.db import Base, UTCDateTime, utcnow
from newsletter.errors import NewsletterError
from newsletter.issues import models as _issues  # noqa: F401

# A draft is typing, not a document: a form's worth of text at most.
MAX_DRAFT_BYTES = 200_000
_KEY = re.compile(r"^[A-Za-z0-9_-]{1,40}$")


class DraftRefused(NewsletterError):
    """The draft could not be kept (too large, or not a block form); the message says why."""


class BlockDraft(Base):
    __tablename__ = "block_drafts"
    __table_args__ = (UniqueConstraint("user_id", "issue_id", "block_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"), index=True)
    # The block's key (Issue.block_keys), or `new-<type>` for a block not added yet.
    block_key: Mapped[str] = mapped_column(String(40))
    # The form's fields by name, as typed.
    fields: Mapped[dict[str, Any]] = mapped_column(JSON)
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def new_block_key(block_type: str) -> str:
    return f"new-{block_type}"


def _check(block_key: str, fields: dict[str, Any]) -> dict[str, str]:
    if not _KEY.match(block_key):
        raise DraftRefused("This is not a block form.")
    kept = {str(name): str(value) for name, value in fields.items()}
    if len(json.dumps(kept, ensure_ascii=False).encode()) > MAX_DRAFT_BYTES:
        raise DraftRefused("This is too long to keep as a draft; save the block to keep it.")
    return kept


def find(session: Session, user_id: int, issue_id: int, block_key: str) -> BlockDraft | None:
    return session.scalar(select(BlockDraft).where(
        BlockDraft.user_id == user_id, BlockDraft.issue_id == issue_id, BlockDraft.block_key == block_key))


def keep(session: Session, user_id: int, issue_id: int, block_key: str, fields: dict[str, Any]) -> BlockDraft:
    """Store what was typed, replacing this person's earlier draft of the same block."""
    kept = _check(block_key, fields)
    for _attempt in range(2):
        draft = find(session, user_id, issue_id, block_key)
        if draft is not None:
            draft.fields, draft.saved_at = kept, utcnow()
            session.flush()
            return draft
        try:
            # Two autosaves of one form can cross; the second finds the first's row and updates it.
            with session.begin_nested():
                draft = BlockDraft(user_id=user_id, issue_id=issue_id, block_key=block_key, fields=kept,
                                   saved_at=utcnow())
                session.add(draft)
            return draft
        except IntegrityError:
            continue
    raise DraftRefused("The draft could not be kept just now; it will be tried again as you type.")


def discard(session: Session, user_id: int, issue_id: int, block_key: str) -> None:
    session.execute(delete(BlockDraft).where(
        BlockDraft.user_id == user_id, BlockDraft.issue_id == issue_id, BlockDraft.block_key == block_key))


def forget_saved(session: Session, user_id: int, issue_id: int, block_keys: set[str]) -> None:
    """The person saved these blocks: their drafts of them have done their job."""
    if block_keys:
        session.execute(delete(BlockDraft).where(
            BlockDraft.user_id == user_id, BlockDraft.issue_id == issue_id, BlockDraft.block_key.in_(block_keys))
            .execution_options(synchronize_session=False))
