"""The first approver, made in the browser on a new install, behind a set-up code printed in the server's log.

As Jupyter and Grafana do: whoever can read the server's log (the person who installed it) can make
the first account; someone who merely finds the address first cannot. The code is made from a nonce
kept in the database (`first_run`) and NEWSLETTER_SECRET_KEY, so every web process (gunicorn's
workers too) prints the same code, and a copy of the database alone does not give it. It works once:
making the account marks it used in the same transaction, with a write only one request can make,
so two people submitting at once get one account between them. Once any account exists the page is
gone, and the command line (`newsletter users create`) keeps working as before.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from newsletter.accounts import service, throttle
from newsletter.accounts.models import FirstRun, Role, User
from newsletter.db import utcnow
from newsletter.errors import NewsletterError

_ROW = 1
# Guesses are counted like wrong passwords (accounts/throttle.py), per client network, under this name.
THROTTLE_NAME = "first-run set-up code"


class SetUpClosed(NewsletterError):
    """An account exists (or the code was used meanwhile): the set-up page is no longer there."""


class WrongCode(NewsletterError):
    """The set-up code typed is not the one in the server's log."""


def code_for(secret_key: str, nonce: str) -> str:
    """Twelve letters and digits in three groups (60 bits), easy to copy from a log: ABCD-EFGH-JKLM."""
    digest = hmac.new(secret_key.encode(), f"first-run:{nonce}".encode(), hashlib.sha256).digest()
    letters = base64.b32encode(digest).decode()[:12]
    return "-".join(letters[i:i + 4] for i in range(0, 12, 4))


def _normalise(typed: str) -> str:
    return "".join(ch for ch in typed.upper() if ch.isalnum())


def open_code(session: Session, secret_key: str) -> str | None:
    """The set-up code while no account exists (made on first call), or None once one does."""
    if service.has_users(session):
        return None
    insert = sqlite_insert if session.get_bind().dialect.name == "sqlite" else postgresql_insert
    session.execute(insert(FirstRun.__table__).values(id=_ROW, nonce=secrets.token_hex(16), created_at=utcnow())
                    .on_conflict_do_nothing(index_elements=["id"]))
    row = session.scalar(select(FirstRun).where(FirstRun.id == _ROW))
    assert row is not None
    if row.used_at is not None:
        # Used, yet no account (the database was emptied by hand): a fresh code, never the old one.
        row.nonce, row.used_at, row.created_at = secrets.token_hex(16), None, utcnow()
        session.flush()
    return code_for(secret_key, row.nonce)


def is_open(session: Session) -> bool:
    return not service.has_users(session)


def seconds_to_wait(session: Session, client: str | None) -> int:
    return throttle.seconds_to_wait(session, THROTTLE_NAME, client)


def record_wrong_code(session: Session, client: str | None) -> None:
    throttle.record_failure(session, THROTTLE_NAME, client)


def create_first_approver(session: Session, secret_key: str, typed_code: str, *, email: str, name: str,
                          password: str) -> User:
    """Check the code, use it up and make the approver, all in the caller's transaction.

    The code is marked used by a conditional write before the account is made: of two requests at
    once, the second waits for the first (PostgreSQL's row lock, SQLite's one writer) and then finds
    it used. A refused account (a short password, say) raises and rolls the whole transaction back,
    so the code still works for the corrected form.
    """
    row = session.scalar(select(FirstRun).where(FirstRun.id == _ROW))
    if row is None or row.used_at is not None or service.has_users(session):
        raise SetUpClosed("The first account has already been made. Sign in, or ask that person for an account.")
    if not hmac.compare_digest(_normalise(typed_code).encode(), _normalise(code_for(secret_key, row.nonce)).encode()):
        raise WrongCode("The set-up code is not right. Copy it from the server's log, where it was printed "
                        "when the service started.")
    claimed = session.execute(
        update(FirstRun).where(FirstRun.id == _ROW, FirstRun.used_at.is_(None), FirstRun.nonce == row.nonce)
        .values(used_at=utcnow()).execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1 or service.has_users(session):
        raise SetUpClosed("The first account has already been made. Sign in, or ask that person for an account.")
    return service.create_user(session, email, name, password, Role.APPROVER)


__all__ = ["SetUpClosed", "WrongCode", "code_for", "create_first_approver", "is_open", "open_code",
           "record_wrong_code", "seconds_to_wait"]
