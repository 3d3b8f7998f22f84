"""Creating accounts and checking passwords, for the CLI and the sign-in page alike.

Passwords are hashed with argon2id (argon2-cffi's defaults follow RFC 9106's recommendation).
Guessing is slowed, never stopped by a lock a stranger could set off: wrong passwords make that
address wait from that client only (accounts/throttle.py). Every attempt costs one argon2
verification, against a dummy hash when there is no such account, the account is deactivated or the
pair must wait, so neither the answer nor its timing tells who has an account.
"""

from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.accounts import sessions, throttle
from newsletter.accounts.models import Role, User
from newsletter.db import utcnow
from newsletter.errors import NewsletterError
from newsletter.headersafe import one_line_problem

MIN_PASSWORD_LENGTH = 12

_HASHER = PasswordHasher()
# Verified against when the address is unknown, so a wrong address takes as long as a wrong password
# and the sign-in page does not reveal who has an account.
_DUMMY_HASH = _HASHER.hash("not a real password, only here to spend the same time")


class AccountError(NewsletterError):
    """A reason, in words for the person at the terminal or the form, why an account change was refused."""


@dataclass(frozen=True)
class SignIn:
    user: User | None
    # Set when this address must wait before trying again from this client (the password was not checked).
    wait_seconds: int = 0


def normalise_address(email: str) -> str:
    from subscribers.api import InvalidEmail, normalise_email

    try:
        return normalise_email(email)
    except InvalidEmail as error:
        raise AccountError(str(error)) from None


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"The password must be at least {MIN_PASSWORD_LENGTH} characters long.")


def create_user(session: Session, email: str, name: str, password: str, role: Role) -> User:
    address = normalise_address(email)
    if session.scalar(select(User.id).where(User.email == address)) is not None:
        raise AccountError(f"There is already an account for {address}.")
    _check_password(password)
    if not name.strip():
        raise AccountError("Give the person's name: it is shown beside what they approve and comment.")
    problem = one_line_problem(name.strip())
    if problem:
        raise AccountError(f"The person's name {problem}.")
    user = User(email=address, name=name.strip(), password_hash=_HASHER.hash(password), role=role,
                active=True, session_version=1, failed_logins=0)
    session.add(user)
    session.flush()
    return user


def find_user(session: Session, email: str) -> User:
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise AccountError(f"There is no account for {email.strip()}.")
    return user


def set_password(session: Session, user: User, password: str) -> None:
    """A new password signs the account out of every browser (the caller may sign this one in again)."""
    _check_password(password)
    user.password_hash = _HASHER.hash(password)
    user.session_version += 1
    sessions.end_all(session, user.id)


def reactivate(session: Session, user: User) -> None:
    user.active = True


def change_own_password(session: Session, user: User, current: str, new: str) -> None:
    """A signed-in person changing their password must prove they know the old one."""
    try:
        _HASHER.verify(user.password_hash, current)
    except (VerificationError, InvalidHashError):
        raise AccountError("Your current password is not right.") from None
    set_password(session, user, new)


def deactivate(session: Session, user: User) -> None:
    user.active = False
    user.session_version += 1
    sessions.end_all(session, user.id)


def has_users(session: Session) -> bool:
    return session.scalar(select(User.id).limit(1)) is not None


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.name)))


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def authenticate(session: Session, email: str, password: str, client: str | None = None) -> SignIn:
    """The account for this address and password from this client (an IP address), or SignIn(None).

    `wait_seconds` says the pair has had too many wrong passwords and must wait; it is the same for an
    address with no account, so it reveals nothing.
    """
    address = email.strip().lower()
    now = utcnow()
    waiting = throttle.seconds_to_wait(session, address, client, now)
    user = session.scalar(select(User).where(User.email == address))
    usable = user is not None and user.active and not waiting
    # Exactly one argon2 verification whatever the case, so every answer takes the same time.
    right = _verify(user.password_hash if usable and user else _DUMMY_HASH, password) and usable
    if waiting:
        return SignIn(None, wait_seconds=waiting)
    if not right or user is None:
        throttle.record_failure(session, address, client, now)
        return SignIn(None)
    throttle.clear(session, address, client)
    if _HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = _HASHER.hash(password)
    user.last_login_at = now
    return SignIn(user)
