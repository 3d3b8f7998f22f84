"""Signed, expiring tokens for public links (previews, review links, preference centre).

Each purpose has its own salt, so a token made for one purpose is refused by every other.
`sign_stable` makes a token without a time in it, so the same payload always gives the same token:
the links in a sent issue (feedback, polls) must be identical in every reader's copy.
"""

from __future__ import annotations

from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer

from newsletter.config import get_settings
from newsletter.errors import NewsletterError


class BadToken(NewsletterError):
    """The link is tampered with, made for something else, or too old; the message says which, for the page."""


def _serializer(purpose: str, secret: str | None = None) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret or get_settings().secret_key, salt=f"newsletter.{purpose}")


def sign(purpose: str, payload: Any, secret: str | None = None) -> str:
    return _serializer(purpose, secret).dumps(payload)


def unsign(purpose: str, token: str, max_age: int | None = None, secret: str | None = None) -> Any:
    try:
        return _serializer(purpose, secret).loads(token, max_age=max_age)
    except SignatureExpired:
        raise BadToken("This link has expired.") from None
    except BadSignature:
        raise BadToken("This link is not valid. It may have been copied incompletely.") from None


def sign_stable(purpose: str, payload: Any, secret: str | None = None) -> str:
    """The same token for the same payload every time, and it never expires."""
    return URLSafeSerializer(secret or get_settings().secret_key, salt=f"newsletter.{purpose}").dumps(payload)


def unsign_stable(purpose: str, token: str, secret: str | None = None) -> Any:
    try:
        return URLSafeSerializer(secret or get_settings().secret_key, salt=f"newsletter.{purpose}").loads(token)
    except BadSignature:
        raise BadToken("This link is not valid. It may have been copied incompletely.") from None
