"""Signed-in browsers, kept on the server so that signing out really ends them.

The browser's cookie holds a random token and nothing else of weight; the `team_sessions` row found by
the token's SHA-256 is what makes it work. Signing out deletes the row, so a copy of the cookie taken
earlier stops working at once. "Sign out everywhere", a new password and deactivation delete every
row of the account.

A session ends after `idle` without a request (NEWSLETTER_SESSION_IDLE_MINUTES) and, however busy,
`lifetime` after sign-in (NEWSLETTER_SESSION_HOURS): OWASP's session management guidance asks for both.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, or_
from sqlalchemy.orm import Session

from newsletter.accounts.models import TeamSession, User
from newsletter.db import utcnow

# The last-seen time is written at most this often, so reading a page is not a write every time.
TOUCH_EVERY = timedelta(minutes=1)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(session: Session, user: User, now: datetime | None = None) -> str:
    """A new session for `user`; returns the token for the browser's cookie (stored only as its hash)."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    session.add(TeamSession(id=_digest(token), user_id=user.id, created_at=now, last_seen_at=now))
    return token


def resume(session: Session, token: str, *, idle: timedelta, lifetime: timedelta,
           now: datetime | None = None) -> User | None:
    """The signed-in person for this token, or None when the session was ended, ran out or the account stopped."""
    now = now or utcnow()
    row = session.get(TeamSession, _digest(token))
    if row is None:
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active or now - row.created_at >= lifetime or now - row.last_seen_at >= idle:
        session.delete(row)
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
    return user


def end(session: Session, token: str) -> None:
    session.execute(delete(TeamSession).where(TeamSession.id == _digest(token)))


def end_all(session: Session, user_id: int) -> int:
    """Sign the account out of every browser; returns how many sessions there were."""
    result = session.execute(delete(TeamSession).where(TeamSession.user_id == user_id))
    return result.rowcount or 0  # type: ignore[attr-defined]


def remove_expired(session: Session, *, idle: timedelta, lifetime: timedelta, now: datetime | None = None) -> int:
    """Forget sessions nobody can use any more (run at each sign-in, so the table stays small, and daily
    by `newsletter maintenance`); returns how many."""
    now = now or utcnow()
    result = session.execute(delete(TeamSession).where(
        or_(TeamSession.created_at <= now - lifetime, TeamSession.last_seen_at <= now - idle)))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
