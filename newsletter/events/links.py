"""The address of an event's calendar file: `/events/<slug>/<block>.ics?s=<signature>`.

The email and web view are rendered before an issue is sent (previews, test copies, review links), so
the link has to work for an unsent issue too, for whoever holds it, with no sign-in. Its signature is
an HMAC of the slug and the block's number under `NEWSLETTER_SECRET_KEY`, so the link is the same in
every copy and on every render (the rendered issue is cached and byte-identical for every reader), and
nobody can make one for an issue they have not been sent: trying slugs tells them nothing.
"""

from __future__ import annotations

from itsdangerous import BadSignature, Signer

_SALT = "newsletter.event-calendar"


def _signer(secret: str) -> Signer:
    return Signer(secret, salt=_SALT)


def _value(slug: str, position: int) -> bytes:
    return f"{slug}/{position}".encode()


def signature(slug: str, position: int, secret: str) -> str:
    """The signature of the event at block `position` (counted from 1) of issue `slug`."""
    return _signer(secret).get_signature(_value(slug, position)).decode()


def is_genuine(slug: str, position: int, given: str, secret: str) -> bool:
    try:
        return _signer(secret).verify_signature(_value(slug, position), given.encode())
    except (BadSignature, UnicodeEncodeError):
        return False


def calendar_url(base_url: str, slug: str, position: int, secret: str) -> str:
    return f"{base_url}/events/{slug}/{position}.ics?s={signature(slug, position, secret)}"
