"""Bulk MIME: each reader's message is the one the email package would make, byte-for-byte sound."""

from __future__ import annotations

import email
import email.policy
from email.header import decode_header, make_header

import pytest

from newsletter.config import Settings
from newsletter.delivery.mime import PreparedMessage, Recipient, parse_verp, verp_address
from newsletter.issues.yamlio import read_issue_file
from newsletter.render.pipeline import RenderedIssue, render_issue
from newsletter.theme import Theme

from tests.conftest import EXAMPLE

LONG_TOKEN = "https://news.example.org/u/" + "A1b2-C3d4_" * 12 + "?x=1&y=2"


@pytest.fixture
def rendered(settings: Settings) -> RenderedIssue:
    doc = read_issue_file(EXAMPLE, settings.media_dir)
    return render_issue(doc, "co-production-week-2026", Theme(), settings)


def _prepared(rendered: RenderedIssue, settings: Settings, subject: str = "Co-production Week") -> PreparedMessage:
    return PreparedMessage(rendered, subject=subject, from_address=settings.from_address, language="en-GB",
                           list_id="send-news.example.org", list_name="SEND newsletter", campaign_id=3,
                           domain=settings.sender_domain)


def _recipient(**overrides: object) -> Recipient:
    values = dict(delivery_id=42, email="jo@example.org", name="Jo", unsubscribe_url=LONG_TOKEN,
                  mailto_unsubscribe="unsubscribe+abc.def@example.org", preferences_url="https://news.example.org/p/xyz=")
    values.update(overrides)
    return Recipient(**values)  # type: ignore[arg-type]


def test_body_parts_decode_to_the_personalised_render(rendered: RenderedIssue, settings: Settings) -> None:
    recipient = _recipient(name="Jo <b>O'Brien</b> & co")
    raw = _prepared(rendered, settings).build(recipient)
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    text, html = list(parsed.iter_parts())
    values = {"unsubscribe_url": recipient.unsubscribe_url, "preferences_url": recipient.preferences_url,
              "name": recipient.name}
    assert text.get_content_type() == "text/plain" and html.get_content_type() == "text/html"
    assert text.get_content().replace("\r\n", "\n") == rendered.text.fill(values)
    assert html.get_content().replace("\r\n", "\n") == rendered.html.fill(values)
    assert "<b>O'Brien</b>" not in html.get_content()


def test_lines_are_crlf_and_short(rendered: RenderedIssue, settings: Settings) -> None:
    raw = _prepared(rendered, settings).build(_recipient())
    assert b"\n" not in raw.replace(b"\r\n", b"") and b"\r" not in raw.replace(b"\r\n", b"")
    head, _, body = raw.partition(b"\r\n\r\n")
    # Header lines may hold a long unfolded URL (RFC 5322 allows 998); body lines are QP, 76 at most.
    assert max(len(line) for line in head.split(b"\r\n")) <= 998
    assert max(len(line) for line in body.split(b"\r\n")) <= 76
    assert b"Content-Transfer-Encoding: quoted-printable" in body
    assert b"7bit" not in raw and b"8bit" not in raw


def test_unsubscribe_headers_follow_rfc_8058(rendered: RenderedIssue, settings: Settings) -> None:
    raw = _prepared(rendered, settings).build(_recipient())
    head = raw.partition(b"\r\n\r\n")[0]
    assert b"=?" not in head.split(b"List-Unsubscribe:")[1].split(b"\r\nList-Unsubscribe-Post")[0]
    assert head.count(b"\r\nList-Unsubscribe:") == 1
    assert head.count(b"\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n") == 1
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    value = " ".join(str(parsed["List-Unsubscribe"]).split())
    assert value == f"<{LONG_TOKEN}>, <mailto:unsubscribe+abc.def@example.org>"
    assert parsed["List-Id"] == '"SEND newsletter" <send-news.example.org>'
    assert parsed["Message-ID"] == "<nl.3.42@example.org>"
    assert parsed["Content-Language"] == "en-GB"
    assert parsed["Feedback-ID"].endswith(":newsletter:example.org")
    assert parsed["Date"].datetime.tzinfo is not None
    assert parsed["MIME-Version"] == "1.0"


def test_non_ascii_subject_and_name_are_encoded(rendered: RenderedIssue, settings: Settings) -> None:
    raw = _prepared(rendered, settings, subject="Café morning: ‘Get together’ – July").build(
        _recipient(name="Zoë Ødegård", email="zoe@example.org"))
    head = raw.partition(b"\r\n\r\n")[0]
    assert head.isascii()
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert str(parsed["Subject"]) == "Café morning: ‘Get together’ – July"
    assert parsed["To"].addresses[0].display_name == "Zoë Ødegård"
    assert str(make_header(decode_header(str(parsed["To"])))).startswith("Zoë")


def test_verp_names_the_row_and_rejects_forgeries(settings: Settings) -> None:
    address = verp_address(9876, "example.org", settings.secret_key)
    assert address.startswith("bounces+9876-") and address.endswith("@example.org")
    assert parse_verp(f"<{address}>", settings.secret_key) == 9876
    assert parse_verp(address.replace("9876", "9877"), settings.secret_key) is None
    assert parse_verp(address, "another-secret-entirely") is None
    assert parse_verp("someone@example.org", settings.secret_key) is None


def test_dkim_signature_covers_the_unsubscribe_headers(rendered: RenderedIssue, settings: Settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import base64
    import subprocess

    import dkim

    from newsletter.delivery.dkim_signing import DkimSigner

    key = tmp_path / "dkim.pem"
    subprocess.run(["openssl", "genrsa", "-out", str(key), "2048"], check=True, capture_output=True)
    public_der = subprocess.run(["openssl", "rsa", "-in", str(key), "-pubout", "-outform", "DER"],
                                check=True, capture_output=True).stdout
    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public_der)

    def dns(name: bytes, timeout: int = 5) -> bytes:
        assert name == b"newsletter._domainkey.example.org."
        return record

    signed = DkimSigner(key.read_bytes(), "newsletter", "example.org").sign(_prepared(rendered, settings).build(_recipient()))
    assert dkim.verify(signed, dnsfunc=dns)
    signature = signed.split(b"\r\n\r\n")[0].split(b"DKIM-Signature:")[1].split(b"\r\nTo:")[0]
    headers = b"".join(signature.split()).split(b"h=")[1].split(b";")[0].lower()
    assert b"list-unsubscribe:list-unsubscribe-post" in headers
    tampered = signed.replace(b"List-Unsubscribe-Post: List-Unsubscribe=One-Click",
                              b"List-Unsubscribe-Post: List-Unsubscribe=Two-Clicks")
    assert not dkim.verify(tampered, dnsfunc=dns)
