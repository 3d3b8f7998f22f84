"""Header injection: no value, stored or typed, can add a header to a message or stop it being parsed.

Every header writer (the bulk one in mime.py, the email-package one in message.py used by test sends,
and the notices in subscribers/notify.py) refuses line breaks and control characters with
HeaderValueError naming the field, and the List-Id name is written as an escaped quoted-string or as
RFC 2047 encoded-words.
"""

from __future__ import annotations

import email
import email.policy
from email.header import decode_header, make_header
from email.headerregistry import Address
from email.utils import parseaddr

import pytest
from hypothesis import HealthCheck, given, settings as hypothesis_settings
from hypothesis import strategies as st

from newsletter.config import Settings
from newsletter.delivery.mime import single_copy, PreparedMessage, Recipient, header
from newsletter.headersafe import HeaderValueError, header_safe
from newsletter.issues.yamlio import read_issue_file
from newsletter.render.pipeline import RenderedIssue, render_issue
from newsletter.theme import Theme
from subscribers.notify import Notice, NoticeKind, build_notice
from tests.conftest import EXAMPLE

INJECTION = "Evil list{}Bcc: victim@example.com"
BREAKS = ["\r\n", "\r", "\n", "\u2028", "\u2029", "\x85", "\x0b", "\x0c"]
# What a reader's message carries, in this order, and nothing else.
HEADERS = ["To", "Date", "Message-ID", "List-Unsubscribe", "From", "Subject", "MIME-Version", "Content-Language",
           "List-Id", "List-Unsubscribe-Post", "Feedback-ID", "Content-Type"]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> RenderedIssue:
    media = tmp_path_factory.mktemp("media")
    test_settings = Settings(base_url="https://news.example.org", secret_key="test-secret-key-0123456789",
                             from_address="Local Offer Team <news@example.org>", media_dir=media)
    doc = read_issue_file(EXAMPLE, media)
    return render_issue(doc, "co-production-week-2026", Theme(), test_settings)


def _prepared(rendered: RenderedIssue, **overrides: str) -> PreparedMessage:
    values = dict(subject="Co-production Week", from_address="Local Offer Team <news@example.org>",
                  language="en-GB", list_id="send-news.example.org", list_name="SEND newsletter")
    values.update(overrides)
    return PreparedMessage(rendered, campaign_id=3, domain="example.org", **values)  # type: ignore[arg-type]


def _recipient(**overrides: str) -> Recipient:
    values: dict[str, object] = dict(
        delivery_id=42, email="jo@example.org", name="Jo", unsubscribe_url="https://news.example.org/u/abc",
        mailto_unsubscribe="unsubscribe+abc@example.org", preferences_url="https://news.example.org/p/abc")
    values.update(overrides)
    return Recipient(**values)  # type: ignore[arg-type]


def _head(raw: bytes) -> bytes:
    return raw.partition(b"\r\n\r\n")[0]


def _header_names(raw: bytes) -> list[str]:
    return list(email.message_from_bytes(raw, policy=email.policy.compat32).keys())


def _list_id(raw: bytes) -> tuple[str, str]:
    """The List-Id's name and identifier as a mail client reads them."""
    value = email.message_from_bytes(raw, policy=email.policy.compat32)["List-Id"]
    value = " ".join(value.replace("\r\n", "").split("\n"))
    if "=?" in value:
        decoded = str(make_header(decode_header(value)))
        name, _, ident = decoded.rpartition(" <")
        return name, ident.rstrip(">")
    return parseaddr(value)


@pytest.mark.parametrize("brk", BREAKS)
@pytest.mark.parametrize("name", ["Evil list", "Évènements"])
def test_a_list_name_with_a_line_break_is_refused_by_the_header_writer(
    rendered: RenderedIssue, brk: str, name: str
) -> None:
    with pytest.raises(HeaderValueError) as raised:
        _prepared(rendered, list_name=f"{name}{brk}Bcc: victim@example.com")
    assert raised.value.field == "the list name"
    assert str(raised.value).startswith("The list name cannot go in an email header")


@pytest.mark.parametrize("brk", BREAKS + ["\x00", "\x1b"])
@pytest.mark.parametrize(("argument", "field"), [("subject", "the subject"), ("from_address", "the From address"),
                                                 ("language", "the language")])
def test_every_campaign_wide_header_value_is_checked(rendered: RenderedIssue, brk: str, argument: str,
                                                     field: str) -> None:
    value = {"subject": "News", "from_address": "Team <news@example.org>", "language": "en-GB"}[argument]
    with pytest.raises(HeaderValueError) as raised:
        _prepared(rendered, **{argument: f"{value}{brk}Bcc: victim@example.com"})
    assert raised.value.field == field


@pytest.mark.parametrize("brk", BREAKS)
@pytest.mark.parametrize(("argument", "field"), [("name", "the reader's name"), ("email", "the reader's address"),
                                                 ("unsubscribe_url", "the unsubscribe link"),
                                                 ("mailto_unsubscribe", "the unsubscribe address")])
def test_every_personal_header_value_is_checked(rendered: RenderedIssue, brk: str, argument: str,
                                                field: str) -> None:
    prepared = _prepared(rendered)
    good = _recipient()
    with pytest.raises(HeaderValueError) as raised:
        prepared.build(_recipient(**{argument: f"{getattr(good, argument)}{brk}Bcc: victim@example.com"}))
    assert raised.value.field == field


@pytest.mark.parametrize("brk", BREAKS)
def test_the_shared_header_function_refuses_line_breaks(brk: str) -> None:
    with pytest.raises(HeaderValueError):
        header("Subject", f"News{brk}Bcc: victim@example.com")


def test_list_id_name_is_an_escaped_quoted_string(rendered: RenderedIssue) -> None:
    tricky = 'Jo\'s "list" \\ Bcc: victim@example.com <x@y> (z)'
    raw = _prepared(rendered, list_name=tricky).build(_recipient())
    assert _header_names(raw) == HEADERS
    assert b'List-Id: "Jo\'s \\"list\\" \\\\ Bcc: victim@example.com <x@y> (z)" <send-news.example.org>\r\n' in raw
    assert _list_id(raw) == (tricky, "send-news.example.org")


def test_non_ascii_list_id_name_is_rfc_2047_and_keeps_the_identifier_plain(rendered: RenderedIssue) -> None:
    name = "Événements et activités pour les familles " * 4
    raw = _prepared(rendered, list_name=name.strip()).build(_recipient())
    head = _head(raw)
    assert head.isascii()
    assert max(len(line) for line in head.split(b"\r\n")) <= 998
    list_id = head.split(b"\r\nList-Id: ")[1].split(b"\r\nList-Unsubscribe-Post")[0]
    # Folded only between encoded-words, each within RFC 2047's 75 characters; the identifier stays plain.
    assert all(len(word) <= 75 for word in list_id.replace(b"\r\n", b"").split(b" ")[:-1])
    assert list_id.endswith(b" <send-news.example.org>")
    assert _list_id(raw) == (name.strip(), "send-news.example.org")
    assert _header_names(raw) == HEADERS


@hypothesis_settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.text(min_size=1, max_size=200), reader=st.text(max_size=60), subject=st.text(min_size=1, max_size=120))
def test_no_value_ever_adds_a_header(rendered: RenderedIssue, name: str, reader: str, subject: str) -> None:
    """Whatever the list name, reader's name and subject hold: refused by name, or a message with our headers only."""
    try:
        raw = _prepared(rendered, list_name=name, subject=subject).build(_recipient(name=reader))
    except HeaderValueError as error:
        assert error.field in {"the list name", "the subject", "the reader's name"}
        assert not (header_safe(name) and header_safe(subject) and header_safe(reader))
        return
    assert header_safe(name) and header_safe(subject) and header_safe(reader)
    head = _head(raw)
    assert head.isascii() and b"\r\n\r\n" not in head
    assert b"\n" not in head.replace(b"\r\n", b"") and b"\r" not in head.replace(b"\r\n", b"")
    assert _header_names(raw) == HEADERS
    assert _list_id(raw) == (name, "send-news.example.org")
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert len(list(parsed.iter_parts())) == 2


@pytest.mark.parametrize("brk", BREAKS)
def test_test_send_builder_refuses_an_injected_subject(rendered: RenderedIssue, brk: str) -> None:
    with pytest.raises(HeaderValueError) as raised:
        single_copy(rendered, subject=f"[Test] News{brk}Bcc: victim@example.com",
                    from_address="Team <news@example.org>", to="jo@example.org", language="en-GB",
                    domain="example.org", links_to="https://news.example.org/test-link")
    assert raised.value.field == "the subject"


def test_test_send_builder_checks_the_reader_too(rendered: RenderedIssue) -> None:
    with pytest.raises(HeaderValueError) as raised:
        single_copy(rendered, subject="News", from_address="Team <news@example.org>", to="jo@example.org",
                    name="Jo\u2028Bcc: victim@example.com", language="en-GB", domain="example.org",
                    links_to="https://news.example.org/test-link")
    assert raised.value.field == "the reader's name"
    raw = single_copy(rendered, subject="News", from_address="Team <news@example.org>", to="jo@example.org",
                      name="Jo", language="en-GB", domain="example.org", links_to="https://news.example.org/test-link")
    assert "Bcc" not in _header_names(raw)


@pytest.mark.parametrize("brk", BREAKS)
def test_notices_refuse_an_injected_name(settings: Settings, brk: str) -> None:
    notice = Notice(NoticeKind.PREFERENCES_LINK, "jo@example.org", "https://news.example.org/p/x",
                    name=f"Jo{brk}Bcc: victim@example.com")
    with pytest.raises(HeaderValueError) as raised:
        build_notice(settings, notice)
    assert raised.value.field == "the reader's name"
    raw = build_notice(settings, Notice(NoticeKind.PREFERENCES_LINK, "jo@example.org", "https://news.example.org/p/x",
                                        name="Jo"))
    assert "Bcc" not in _header_names(raw)


def test_a_list_identifier_that_is_not_a_dot_atom_is_refused(rendered: RenderedIssue) -> None:
    with pytest.raises(HeaderValueError, match="is not a slug and a domain name"):
        _prepared(rendered, list_id="send news.example.org> Bcc: x")
