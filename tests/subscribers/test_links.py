"""Personal links: short, opaque, signed, and refused when tampered with, foreign or expired."""

from __future__ import annotations

import base64
import email
import time
from email import policy
from email.message import EmailMessage

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from itsdangerous.encoding import base64_decode, bytes_to_int

from newsletter.config import Settings, load_settings
from newsletter.tokens import BadToken
from subscribers import links
from subscribers.links import LinkTarget

SETTINGS = load_settings(secret_key="test-secret-key-0123456789", base_url="https://news.example.org",
                         from_address="Local Offer Team <news@example.org>")
OTHER_KEY = load_settings(secret_key="a-different-secret-key-987654", base_url="https://news.example.org",
                          from_address="Local Offer Team <news@example.org>")


class Person:
    def __init__(self, token_key: str) -> None:
        self.token_key = token_key


keys = st.binary(min_size=9, max_size=9).map(lambda raw: base64.urlsafe_b64encode(raw).decode())
list_ids = st.lists(st.integers(min_value=1, max_value=999_999_999), max_size=6)


def _token(url: str) -> str:
    return url.rsplit("/", 1)[1]


@hsettings(max_examples=300, deadline=None)
@given(keys, list_ids)
def test_unsubscribe_token_round_trip(key: str, ids: list[int]) -> None:
    token = _token(links.unsubscribe_url(SETTINGS, Person(key), ids))
    assert links.read_token(SETTINGS, links.UNSUBSCRIBE, token) == LinkTarget(key, tuple(sorted(set(ids))))


@hsettings(max_examples=200, deadline=None)
@given(keys)
def test_preferences_token_round_trip(key: str) -> None:
    token = _token(links.preferences_url(SETTINGS, Person(key)))
    assert links.read_token(SETTINGS, links.PREFERENCES, token, max_age=links.PREFERENCES_MAX_AGE) == LinkTarget(key, ())


@hsettings(max_examples=300, deadline=None)
@given(keys, list_ids)
def test_mailto_address_round_trip_in_any_case(key: str, ids: list[int]) -> None:
    address = links.mailto_unsubscribe_address(SETTINGS, Person(key), ids)
    local, domain = address.split("@")
    assert len(local) <= 64 and domain == "example.org"
    for form in (address, address.upper(), address.lower()):
        target = links.read_mailto_address(SETTINGS, form)
        assert target.token_key == key
        wanted = tuple(sorted(set(ids)))
        # Too many lists to fit in 64 characters: the address names every list, the safe way to be wrong.
        assert target.list_ids in (wanted, ())
        if len(".".join(map(str, wanted))) <= 19:
            assert target.list_ids == wanted


@hsettings(max_examples=300, deadline=None)
@given(keys, list_ids, st.data())
def test_any_changed_character_is_refused(key: str, ids: list[int], data: st.DataObject) -> None:
    token = _token(links.unsubscribe_url(SETTINGS, Person(key), ids))
    position = data.draw(st.integers(min_value=0, max_value=len(token) - 1))
    replacement = data.draw(st.sampled_from("ABCabc019-_."))
    changed = token[:position] + replacement + token[position + 1:]
    if changed == token:
        return
    try:
        target = links.read_token(SETTINGS, links.UNSUBSCRIBE, changed)
    except BadToken:
        return
    # Base64 has spare bits in its last character: a change there can decode to the same bytes.
    assert target == LinkTarget(key, tuple(sorted(set(ids))))


def test_fast_signer_writes_exactly_what_itsdangerous_writes() -> None:
    token = _token(links.unsubscribe_url(SETTINGS, Person("ENPasj2GNFrQ"), [3, 1]))
    stamp = bytes_to_int(base64_decode(token.split(".")[1]))

    class AtThatSecond(TimestampSigner):
        def get_timestamp(self) -> int:
            return stamp

    reference = URLSafeTimedSerializer(SETTINGS.secret_key, salt="newsletter.unsubscribe", signer=AtThatSecond)
    assert reference.dumps("ENPasj2GNFrQ1,3") == token


def test_tokens_are_short_and_carry_no_id_or_address() -> None:
    url = links.unsubscribe_url(SETTINGS, Person("ENPasj2GNFrQ"), [12, 345])
    token = _token(url)
    assert len(token) < 70
    decoded = base64.urlsafe_b64decode(token.split(".")[0] + "==").decode()
    assert "@" not in decoded and decoded == '"ENPasj2GNFrQ12,345"'


def test_foreign_tokens_are_refused() -> None:
    person = Person("ENPasj2GNFrQ")
    unsubscribe = _token(links.unsubscribe_url(SETTINGS, person, [1]))
    preferences = _token(links.preferences_url(SETTINGS, person))
    with pytest.raises(BadToken):
        links.read_token(SETTINGS, links.PREFERENCES, unsubscribe)  # made for another purpose
    with pytest.raises(BadToken):
        links.read_token(SETTINGS, links.CONFIRM, preferences)
    with pytest.raises(BadToken):
        links.read_token(OTHER_KEY, links.UNSUBSCRIBE, unsubscribe)  # another installation's key
    with pytest.raises(BadToken):
        links.read_mailto_address(OTHER_KEY, links.mailto_unsubscribe_address(SETTINGS, person, [1]))
    with pytest.raises(BadToken):
        links.read_mailto_address(SETTINGS, "unsubscribe+aaaaaaaaaaaaaaa-1-aaaaaaaaaaaaaaaa@example.org")
    with pytest.raises(BadToken):
        links.read_mailto_address(SETTINGS, "newsletter@example.org")


def test_expired_tokens_are_refused_but_unsubscribe_never_expires() -> None:
    old = int(time.time()) - links.PREFERENCES_MAX_AGE - 60

    class LongAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return old

    def made_long_ago(purpose: str, payload: str) -> str:
        return URLSafeTimedSerializer(SETTINGS.secret_key, salt=f"newsletter.{purpose}", signer=LongAgo).dumps(payload)

    with pytest.raises(BadToken, match="expired"):
        links.read_token(SETTINGS, links.PREFERENCES, made_long_ago(links.PREFERENCES, "ENPasj2GNFrQ"),
                         max_age=links.PREFERENCES_MAX_AGE)
    with pytest.raises(BadToken, match="expired"):
        links.read_token(SETTINGS, links.CONFIRM, made_long_ago(links.CONFIRM, "ENPasj2GNFrQ1"),
                         max_age=links.CONFIRM_MAX_AGE)
    assert links.read_token(SETTINGS, links.UNSUBSCRIBE, made_long_ago(links.UNSUBSCRIBE, "ENPasj2GNFrQ1")).list_ids == (1,)


def test_list_unsubscribe_header_survives_the_email_package_unfolded() -> None:
    """FIELD-NOTES: a long URL in a header is folded into encoded-words (=?utf-8?q?...) that break the link.

    The URL is about 90 characters, so no token is short enough for the email package's 78-column folding:
    the header must be written raw (as newsletter/delivery/mime.py does) or with the RFC 5322 limit of 998.
    Either way a mail client must read back exactly our URL and address.
    """
    person = Person("ENPasj2GNFrQ")
    url = links.unsubscribe_url(SETTINGS, person, [101, 102, 103])
    mailto = links.mailto_unsubscribe_address(SETTINGS, person, [101, 102, 103])
    assert len(url) < 100 and len(mailto) < 80

    message = EmailMessage(policy=policy.SMTP.clone(max_line_length=998))
    message["From"] = "news@example.org"
    message["List-Unsubscribe"] = f"<{url}>, <mailto:{mailto}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content("hello")
    raw = message.as_bytes()
    assert b"=?" not in raw.split(b"\r\n\r\n", 1)[0]

    written = (b"From: news@example.org\r\nList-Unsubscribe: <" + url.encode() + b">,\r\n <mailto:" + mailto.encode()
               + b">\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n\r\nhello\r\n")
    for blob in (raw, written):
        read = email.message_from_bytes(blob, policy=policy.default)
        header = " ".join(str(read["List-Unsubscribe"]).split())
        assert header == f"<{url}>, <mailto:{mailto}>"


def test_links_are_cheap_enough_for_every_recipient(db: Settings) -> None:
    """The delivery engine makes these per recipient; the budget is about 20 µs each (measured, generous bound)."""
    person = Person("ENPasj2GNFrQ")
    rounds = 20_000
    started = time.process_time()
    for _ in range(rounds):
        links.unsubscribe_url(SETTINGS, person, [1, 2])
        links.preferences_url(SETTINGS, person)
    each = (time.process_time() - started) / rounds / 2
    # 20 µs on a quiet 2-core machine; the bound leaves room for a busy CI runner.
    assert each < 100e-6, f"{each * 1e6:.1f} µs a link"
