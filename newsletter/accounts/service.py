"""Creating accounts and checking passwords, for the CLI and the sign-in page alike.

Passwords are hashed with argon2id (argon2-cffi's defaults follow RFC 9106's recommendation).
Guessing is slowed twice over: the web layer limits attempts per address in memory, and here each
account locks for LOCK_MINUTES after MAX_FAILURES wrong passwords in a row. The lock lives in the
database so it holds across every web process; it expires by itself, so an attacker can delay a
team member but not shut them out for good.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.accounts.models import Role, User
from newsletter.db import utcnow
from newsletter.headersafe import one_line_problem

MIN_PASSWORD_LENGTH = 12
MAX_FAILURES = 5
LOCK_MINUTES = 15

_HASHER = PasswordHasher()
# Verified against when the address is unknown, so a wrong address takes as long as a wrong password
# and the sign-in page does not reveal who has an account.
_DUMMY_HASH = _HASHER.hash("not a real password, only here to spend the same time")


class AccountError(Exception):
    """A reason, in words for the person at the terminal or the form, why an account change was refused."""


@dataclass(frozen=True)
class SignIn:
    user: User | None
    locked: bool = False


def normalise_address(email: str) -> str:
    from subscribers.emails import normalise_email
    from subscribers.errors import InvalidEmail

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
    _check_password(password)
    user.password_hash = _HASHER.hash(password)
    user.session_version += 1
    user.failed_logins = 0
    user.locked_until = None


def reactivate(session: Session, user: User) -> None:
    user.active = True
    user.failed_logins = 0
    user.locked_until = None


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


def has_users(session: Session) -> bool:
    return session.scalar(select(User.id).limit(1)) is not None


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.name)))


def authenticate(session: Session, email: str, password: str) -> SignIn:
    """The account for this address and password, or SignIn(None); `locked` says why a right password failed."""
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None or not user.active:
        try:
            _HASHER.verify(_DUMMY_HASH, password)
        except VerificationError:
            pass
        return SignIn(None)
    now = utcnow()
    if user.locked_until is not None and user.locked_until > now:
        return SignIn(None, locked=True)
    try:
        _HASHER.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILURES:
            user.locked_until = now + timedelta(minutes=LOCK_MINUTES)
            user.failed_logins = 0
        return SignIn(None)
    if _HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = _HASHER.hash(password)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    return SignIn(user)
