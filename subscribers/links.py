"""Personal links and addresses in emails: unsubscribe, preferences, confirm, and the mailto unsubscribe.

What a link carries. Never the address and never the subscriber id: an itsdangerous payload is
only base64, readable by anyone who holds the email. Each subscriber instead has `token_key`, 9
random bytes (12 URL-safe characters) that mean nothing outside our database. A link signs
"token_key + list ids" with HMAC under NEWSLETTER_SECRET_KEY and a per-purpose salt, so:
- a changed character, or a token made for another purpose, fails the signature (BadToken);
- erasing a person deletes their token_key, so every link in every old email stops working;
- the token stays short (about 60 characters), which matters because Python's email package folds a
  long `List-Unsubscribe` header into encoded-words that break the link (see FIELD-NOTES).

Tokens are verified with `newsletter.tokens.unsign`. They are *made* here by `_FastSigner`, which
writes exactly the format itsdangerous writes (tests prove the bytes are equal) but keeps the
derived key and HMAC state between calls: the delivery engine calls `unsubscribe_url` and
`preferences_url` once per recipient, and itsdangerous rebuilds all of that each time (about 45 µs
a call here, against under 5 µs).

Unsubscribe links never expire: UK PECR and the mailbox providers require that every message can
be used to leave, however old. Preference links carry personal data (download my data, erase me)
and a forwarded email can reach someone else, so they expire; the expired page offers a fresh one.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import re
import secrets
import struct
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from newsletter.config import Settings
from newsletter.tokens import BadToken, unsign

UNSUBSCRIBE = "unsubscribe"
PREFERENCES = "preferences"
CONFIRM = "confirm-subscription"

PREFERENCES_MAX_AGE = 180 * 24 * 3600
CONFIRM_MAX_AGE = 7 * 24 * 3600

TOKEN_KEY_BYTES = 9
_KEY_LENGTH = 12  # len(token_urlsafe(9))
_PAYLOAD = re.compile(r"^([A-Za-z0-9_-]{12})((?:\d{1,9}(?:,\d{1,9})*)?)$")

# RFC 5321 caps a local part at 64 octets: "unsubscribe+" + 15 + "-" + lists + "-" + 16 leaves 19 for lists.
MAILTO_LOCAL = "unsubscribe"
_MAILTO_MAX_LISTS = 64 - len(MAILTO_LOCAL) - 1 - 15 - 1 - 1 - 16
_MAILTO_ALL = "a"
_MAILTO = re.compile(r"^unsubscribe\+([a-z2-7]{15})-(a|\d{1,9}(?:\.\d{1,9})*)-([a-z2-7]{16})@", re.IGNORECASE)


class HasTokenKey(Protocol):
    """A Subscriber row or an api.Recipient: anything that knows its subscriber's token_key."""

    token_key: str


@dataclass(frozen=True, slots=True)
class LinkTarget:
    """Whom a verified link is for, and which lists it names (empty means every list)."""

    token_key: str
    list_ids: tuple[int, ...]


def new_token_key() -> str:
    return secrets.token_urlsafe(TOKEN_KEY_BYTES)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class _FastSigner:
    """itsdangerous' URLSafeTimedSerializer.dumps for a short string, with the key work done once.

    Same steps as itsdangerous 2.x: compact JSON, URL-safe base64 without padding, "." + the
    big-endian timestamp, "." + HMAC-SHA1 under sha1(salt + "signer" + secret) ("django-concat").
    Short payloads never shrink under zlib, so itsdangerous never compresses them either.
    """

    __slots__ = ("_mac", "_stamp", "_stamp_second")

    def __init__(self, secret: str, purpose: str):
        salt = f"newsletter.{purpose}".encode()
        # itsdangerous' own key derivation, so its tokens verify; HMAC-SHA1 needs no collision resistance.
        key = hashlib.sha1(salt + b"signer" + secret.encode()).digest()  # nosec B324
        self._mac = hmac.new(key, digestmod=hashlib.sha1)
        self._stamp_second = -1
        self._stamp = ""

    def sign(self, payload: str) -> str:
        now = int(time.time())
        if now != self._stamp_second:
            self._stamp = _b64(struct.pack(">Q", now).lstrip(b"\x00"))
            self._stamp_second = now
        value = _b64(b'"' + payload.encode("ascii") + b'"') + "." + self._stamp
        mac = self._mac.copy()
        mac.update(value.encode("ascii"))
        return f"{value}.{_b64(mac.digest())}"


@functools.lru_cache(maxsize=16)
def _signer(secret: str, purpose: str) -> _FastSigner:
    return _FastSigner(secret, purpose)


def _payload(token_key: str, list_ids: Sequence[int]) -> str:
    if not list_ids:
        return token_key
    return token_key + ",".join(str(int(i)) for i in sorted(set(list_ids)))


def make_token(settings: Settings, purpose: str, token_key: str, list_ids: Sequence[int] = ()) -> str:
    return _signer(settings.secret_key, purpose).sign(_payload(token_key, list_ids))


def read_token(settings: Settings, purpose: str, token: str, max_age: int | None = None) -> LinkTarget:
    """Verify a link's token; BadToken (with a sentence for the page) if tampered, foreign or expired."""
    payload = unsign(purpose, token, max_age=max_age, secret=settings.secret_key)
    match = _PAYLOAD.match(payload) if isinstance(payload, str) else None
    if match is None:
        raise BadToken("This link is not valid. It may have been copied incompletely.")
    ids = tuple(int(i) for i in match.group(2).split(",")) if match.group(2) else ()
    return LinkTarget(match.group(1), ids)


# --- the links the delivery engine puts in every message ----------------------------------------


def unsubscribe_url(settings: Settings, subscriber: HasTokenKey, list_ids: Sequence[int]) -> str:
    """The one-click (RFC 8058) address for `List-Unsubscribe`, also the visible unsubscribe link.

    POST with `List-Unsubscribe=One-Click` leaves the named lists at once; GET shows a page with a
    button. An empty `list_ids` means every list. Never expires.
    """
    return f"{settings.base_url}/u/{make_token(settings, UNSUBSCRIBE, subscriber.token_key, list_ids)}"


def preferences_url(settings: Settings, subscriber: HasTokenKey) -> str:
    """The reader's preference centre: change lists and name, leave everything, download or erase their data."""
    return f"{settings.base_url}/p/{make_token(settings, PREFERENCES, subscriber.token_key)}"


def confirm_url(settings: Settings, subscriber: HasTokenKey, list_ids: Sequence[int]) -> str:
    return f"{settings.base_url}/subscribe/confirm/{make_token(settings, CONFIRM, subscriber.token_key, list_ids)}"


# --- the mailto unsubscribe --------------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def _mailto_key(secret: str) -> bytes:
    return hashlib.sha256(b"newsletter.mailto-unsubscribe" + secret.encode()).digest()


def _mailto_mac(settings: Settings, body: str) -> str:
    digest = hmac.new(_mailto_key(settings.secret_key), body.encode("ascii"), hashlib.sha256).digest()[:10]
    return base64.b32encode(digest).decode("ascii").lower()


def mailto_unsubscribe_address(settings: Settings, subscriber: HasTokenKey, list_ids: Sequence[int]) -> str:
    """`unsubscribe+TOKEN@<sender domain>`, the `mailto:` half of `List-Unsubscribe`.

    Not an itsdangerous token: a local part may hold only 64 characters, and some mail servers
    lower-case it, so this one is lower-case base32 with a truncated HMAC-SHA256 (80 bits, checked
    only by us). If the list ids would not fit in 64 characters it names every list instead: leaving
    more lists than asked is the safe way to be wrong.
    """
    key = base64.b32encode(base64.urlsafe_b64decode(subscriber.token_key)).decode("ascii").rstrip("=").lower()
    lists = ".".join(str(int(i)) for i in sorted(set(list_ids))) or _MAILTO_ALL
    if len(lists) > _MAILTO_MAX_LISTS:
        lists = _MAILTO_ALL
    body = f"{key}-{lists}"
    return f"{MAILTO_LOCAL}+{body}-{_mailto_mac(settings, body)}@{settings.sender_domain}"


def read_mailto_address(settings: Settings, address: str) -> LinkTarget:
    """The target of an address made by `mailto_unsubscribe_address`; BadToken if it is not one of ours."""
    match = _MAILTO.match(address.strip().lower())
    if match is None or not address.strip().lower().endswith("@" + settings.sender_domain):
        raise BadToken("not an unsubscribe address")
    key, lists, mac = match.groups()
    if not hmac.compare_digest(_mailto_mac(settings, f"{key}-{lists}"), mac):
        raise BadToken("the unsubscribe address has been changed")
    token_key = _b64(base64.b32decode(key.upper() + "="))
    ids = () if lists == _MAILTO_ALL else tuple(int(i) for i in lists.split("."))
    return LinkTarget(token_key, ids)
