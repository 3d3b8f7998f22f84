"""A team member's account. Families never have one: they are subscribers, reached by signed links."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, Enum, ForeignKey, Integer, String
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
    # Changes whenever the password does or the account is deactivated (a record that it happened; the
    # sessions themselves end because their rows in team_sessions are deleted).
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    # No longer used: wrong passwords are throttled per address and client (SignInThrottle), never by
    # locking the account. Kept because dropping a column makes SQLite rebuild `users`, and dropping the
    # old table would set every issue's author and approver to nobody.
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def can_approve(self) -> bool:
        return self.role is Role.APPROVER


class TeamSession(Base):
    """One signed-in browser. Its cookie carries a random token; this row, found by the token's hash,
    is what makes the cookie work, so deleting it signs that browser out even if the cookie was copied.
    """

    __tablename__ = "team_sessions"

    # SHA-256 of the cookie's token: a copy of the table cannot be replayed as cookies.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SignInThrottle(Base):
    """Wrong passwords for one address from one client network, and how long that pair must now wait.

    Keyed by a hash of both, so it never tells which addresses have accounts, and a stranger's guesses
    slow only the stranger: the same person signing in from their own computer is not held up.
    """

    __tablename__ = "sign_in_throttles"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    wait_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class FirstRun(Base):
    """The one row behind the first-run set-up code (newsletter/accounts/first_run.py).

    Only a nonce is stored: the code is an HMAC of it with NEWSLETTER_SECRET_KEY, so every web process
    prints the same code and a copy of the database does not give it. `used_at` makes it single use.
    """

    __tablename__ = "first_run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
