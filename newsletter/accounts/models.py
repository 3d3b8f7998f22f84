"""A team member's account. Families never have one: they are subscribers, reached by signed links."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, Enum, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from newsletter.db import Base, UTCDateTime, utcnow


class Role(str, enum.Enum):
    # An editor composes, tests and submits; an approver also approves, sends and manages lists and people.
    EDITOR = "editor"
    APPROVER = "approver"


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Stored normalised (lower case), so the unique index is case-insensitive by construction.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(
        Enum(Role, name="user_role", native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]),
        default=Role.EDITOR,
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Changes whenever the password does, and is kept in the session cookie: a changed password (or a
    # deactivated account) signs out every browser that was signed in with the old one.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def can_approve(self) -> bool:
        return self.role is Role.APPROVER
