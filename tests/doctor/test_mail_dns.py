"""The DKIM record printed for a key made here, and the SPF and DMARC records for the From domain."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from pathlib import Path

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from newsletter.config import Settings
from newsletter.delivery.dkim_signing import signer_for
from newsletter.doctor.mail_dns import DNS_STRING_MAX, dkim_key, dkim_record, sender_domain


def _write_key(path: Path, key: object, password: bytes | None = None) -> Path:
    encryption = (serialization.BestAvailableEncryption(password) if password
                  else serialization.NoEncryption())
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM,  # type: ignore[attr-defined]
                                       serialization.PrivateFormat.PKCS8, encryption))
    return path


def _zone_strings(message: str) -> tuple[str, list[str]]:
    """The record name and its quoted strings, read back from the finding's zone-file line."""
    [line] = [line.strip() for line in message.splitlines() if " IN TXT " in line]
    name = line.split(". IN TXT ")[0]
    return name, re.findall(r'"([^"]*)"', line)


def test_the_printed_record_is_the_keys_public_half_and_verifies_a_real_message(
        configured: Callable[..., Settings], tmp_path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    current = configured(dkim_key_file=_write_key(tmp_path / "dkim.pem", key), dkim_selector="news2026")
    [finding] = dkim_key(current)
    assert finding.level == "ok", finding.message
    name, strings = _zone_strings(finding.message)
    assert name == "news2026._domainkey.yourcouncil.gov.uk"
    assert all(len(part) <= DNS_STRING_MAX for part in strings) and len(strings) == 2  # 2048 bits need two
    value = "".join(strings)
    assert value.startswith("v=DKIM1; k=rsa; p=")
    public = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert base64.b64decode(value.split("p=", 1)[1]) == public
    # A message signed the way the sender signs verifies against exactly that record.
    message = (b"From: Local Offer Team <localoffer@yourcouncil.gov.uk>\r\nTo: jo@example.net\r\nSubject: Hi\r\n"
               b"Date: Mon, 07 Dec 2026 09:00:00 +0000\r\nMessage-ID: <1@yourcouncil.gov.uk>\r\n"
               b"List-Unsubscribe: <https://news.yourcouncil.gov.uk/u/abc>\r\n"
               b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n\r\nHello\r\n")
    signed = signer_for(current).sign(message)  # type: ignore[union-attr]
    asked: list[bytes] = []

    def lookup(record_name: bytes, timeout: int = 5) -> bytes:
        asked.append(record_name)
        return value.encode()

    assert dkim.verify(signed, dnsfunc=lookup)
    assert asked == [f"{name}.".encode()]


def test_a_short_key_is_a_warning_with_its_record(configured: Callable[..., Settings], tmp_path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    [finding] = dkim_key(configured(dkim_key_file=_write_key(tmp_path / "short.pem", key)))
    assert finding.level == "warning" and "1024 bits" in finding.message
    assert len(_zone_strings(finding.message)[1]) == 1  # fits one string


@pytest.mark.parametrize("problem", ["missing", "not pem", "passphrase", "ed25519"])
def test_a_key_that_cannot_be_used_is_an_error(configured: Callable[..., Settings], tmp_path: Path,
                                               problem: str) -> None:
    path = tmp_path / "dkim.pem"
    if problem == "not pem":
        path.write_text("ssh-rsa AAAA... not a key\n")
    elif problem == "passphrase":
        _write_key(path, rsa.generate_private_key(public_exponent=65537, key_size=2048), b"secret words")
    elif problem == "ed25519":
        _write_key(path, ed25519.Ed25519PrivateKey.generate())
    [finding] = dkim_key(configured(dkim_key_file=path))
    assert finding.level == "error"
    expected = {"missing": "cannot be read", "not pem": "not a PEM private key", "passphrase": "passphrase",
                "ed25519": "not an RSA key"}[problem]
    assert expected in finding.message


def test_no_key_is_a_warning_naming_the_alignment_needed(configured: Callable[..., Settings]) -> None:
    [finding] = dkim_key(configured())
    assert finding.level == "warning" and "d=yourcouncil.gov.uk" in finding.message


def test_dkim_record_splits_a_4096_bit_key_into_dns_strings() -> None:
    pem = rsa.generate_private_key(public_exponent=65537, key_size=4096).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption())
    record = dkim_record(pem, "s1", "yourcouncil.gov.uk")
    assert record.bits == 4096 and len(record.strings) == 3 and "".join(record.strings) == record.value


def test_spf_and_dmarc_records_for_the_from_domain(configured: Callable[..., Settings]) -> None:
    findings = {f.check: f for f in sender_domain(configured(smtp_url="smtp+starttls://u:p@relay.yourcouncil.gov.uk:587"))}
    assert 'yourcouncil.gov.uk. IN TXT "v=spf1 a:relay.yourcouncil.gov.uk ~all"' in findings["spf"].message
    assert '_dmarc.yourcouncil.gov.uk. IN TXT "v=DMARC1; p=none; rua=mailto:dmarc-reports@yourcouncil.gov.uk"' \
        in findings["dmarc"].message
    assert "aligned" in findings["spf"].message and "0.3%" in findings["spf"].message
    assert findings["unsubscribe"].level == "ok"
    without_relay = {f.check: f for f in sender_domain(configured())}
    assert "include:<your mail provider's SPF domain>" in without_relay["spf"].message


@pytest.mark.parametrize("address", ["News <news@localhost>", "News <news@example.org>", "News <news@council>"])
def test_a_from_address_on_no_real_domain_is_an_error(configured: Callable[..., Settings], address: str) -> None:
    [finding] = sender_domain(configured(from_address=address))
    assert finding.level == "error" and finding.check == "from-domain"
