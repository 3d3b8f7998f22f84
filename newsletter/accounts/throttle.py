"""Slowing down password guessing without letting anyone lock a colleague out.

NIST SP 800-63B section 5.2.2 asks for rate limiting of failed attempts, and warns that a hard lock
lets an attacker deny service to the real user. So nothing here locks an account: wrong passwords
are counted per (email address, client network), and after FREE_FAILURES in a row that pair must
wait, twice as long after each further failure, up to MAX_WAIT. A stranger guessing from elsewhere
slows only themselves; the team member signing in from their own computer is not held up.

The count is the same for addresses that have no account, so neither the answer nor its timing says
who has one. It lives in the database (`sign_in_throttles`), shared by every web process, and keys
are hashes, so the table lists neither addresses nor IP addresses.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
from datetime import datetime, timedelta

from sqlalchemy import case, delete, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from newsletter.accounts.models import SignInThrottle
from newsletter.db import utcnow

FREE_FAILURES = 5
FIRST_WAIT = timedelta(seconds=30)
MAX_WAIT = timedelta(minutes=15)
# A pair with no wrong password for this long starts again from nothing.
FORGET_AFTER = timedelta(hours=24)


def client_network(address: str | None) -> str:
    """An IPv4 address, or the /64 an IPv6 address is in (one home or phone holds a whole /64)."""
    try:
        ip = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _key(email: str, client: str | None) -> str:
    return hashlib.sha256(f"{email.strip().lower()}\n{client_network(client)}".encode()).hexdigest()


def wait_after(failures: int) -> timedelta:
    """How long a pair waits after `failures` wrong passwords in a row: none, then 30 s doubling to 15 minutes."""
    if failures < FREE_FAILURES:
        return timedelta(0)
    return min(FIRST_WAIT * 2 ** (failures - FREE_FAILURES), MAX_WAIT)


def seconds_to_wait(session: Session, email: str, client: str | None, now: datetime | None = None) -> int:
    """Whole seconds before this address may try again from this client (0: it may try now)."""
    now = now or utcnow()
    until = session.scalar(select(SignInThrottle.wait_until).where(SignInThrottle.key == _key(email, client)))
    if until is None or until <= now:
        return 0
    return max(1, math.ceil((until - now).total_seconds()))


def record_failure(session: Session, email: str, client: str | None, now: datetime | None = None) -> int:
    """Count one wrong password for the pair, atomically across processes; returns the failures in a row."""
    now = now or utcnow()
    key = _key(email, client)
    table = SignInThrottle.__table__
    insert = sqlite_insert if session.get_bind().dialect.name == "sqlite" else postgresql_insert
    statement = insert(table).values(key=key, failures=1, last_failure_at=now, wait_until=None)
    statement = statement.on_conflict_do_update(index_elements=[table.c.key], set_={
        "failures": case((table.c.last_failure_at <= now - FORGET_AFTER, 1), else_=table.c.failures + 1),
        "last_failure_at": now,
    })
    session.execute(statement)
    failures = session.scalar(select(SignInThrottle.failures).where(SignInThrottle.key == key)) or 1
    wait = wait_after(failures)
    if wait:
        session.execute(update(SignInThrottle).where(SignInThrottle.key == key).values(wait_until=now + wait))
    # Old pairs are forgotten as new failures arrive, so the table holds about a day of them.
    session.execute(delete(SignInThrottle).where(SignInThrottle.last_failure_at <= now - FORGET_AFTER))
    return failures


def forget_old(session: Session, now: datetime | None = None) -> int:
    """Delete counts with no wrong password for FORGET_AFTER (also done as new failures arrive, and daily
    by `newsletter maintenance`, so a quiet site keeps none); returns how many."""
    now = now or utcnow()
    result = session.execute(delete(SignInThrottle).where(SignInThrottle.last_failure_at <= now - FORGET_AFTER))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def clear(session: Session, email: str, client: str | None) -> None:
    """A right password from this client: its count starts again (other clients' counts stay)."""
    session.execute(delete(SignInThrottle).where(SignInThrottle.key == _key(email, client)))
