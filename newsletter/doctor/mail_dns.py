"""Will Gmail, Yahoo and Microsoft trust the mail: the DKIM key and the DNS records to publish.

Since February 2024 Gmail and Yahoo require of anyone sending 5,000 or more messages a day to them:
SPF and DKIM both pass; the From domain aligned with the DKIM signature's d= domain or the SPF
(envelope sender) domain; a DMARC record for the From domain with at least p=none; one-click
unsubscribe (RFC 8058); TLS; and complaints under 0.3%. The service signs with d= the From domain
and sends with an envelope sender on the From domain (bounces+…@), so both align once the records
below are published. The doctor prints the exact records; it does not look them up.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from newsletter.config import Settings, _is_loopback
from newsletter.doctor.findings import Finding, error, ok, warning
from newsletter.errors import NewsletterError

DNS_STRING_MAX = 255  # one character-string in a TXT record (RFC 1035 §3.3)
GOOD_BITS = 2048
_EXAMPLE_DOMAIN = re.compile(r"(^|\.)(example\.(org|com|net)|localhost|local|invalid|test)$")
BULK_RULES = ("Gmail's and Yahoo's rules for bulk senders: SPF and DKIM both pass; the From domain is aligned "
              "with DKIM's d= (or SPF's domain); a DMARC record with at least p=none; one-click unsubscribe; "
              "TLS; complaints under 0.3%.")


@dataclass(frozen=True)
class DkimRecord:
    name: str  # selector._domainkey.domain
    value: str  # v=DKIM1; k=rsa; p=...
    bits: int

    @property
    def strings(self) -> list[str]:
        """The value cut into character-strings DNS can hold; resolvers join them back without spaces."""
        return [self.value[start:start + DNS_STRING_MAX] for start in range(0, len(self.value), DNS_STRING_MAX)]

    @property
    def zone_line(self) -> str:
        return f'{self.name}. IN TXT ' + " ".join(f'"{part}"' for part in self.strings)


class UnusableKey(NewsletterError):
    """The key file cannot be used for DKIM; the message says why in words."""


def dkim_record(key_pem: bytes, selector: str, domain: str) -> DkimRecord:
    """The TXT record that publishes the public half of `key_pem` for `selector` on `domain`."""
    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
    except TypeError:
        raise UnusableKey("it is protected by a passphrase; the service needs it without one") from None
    except ValueError:
        raise UnusableKey("it is not a PEM private key (it should start with -----BEGIN PRIVATE KEY----- "
                          "or -----BEGIN RSA PRIVATE KEY-----)") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise UnusableKey("it is not an RSA key; make one with `openssl genrsa -out dkim.pem 2048`")
    public = key.public_key().public_bytes(serialization.Encoding.DER,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    value = f"v=DKIM1; k=rsa; p={base64.b64encode(public).decode()}"
    return DkimRecord(name=f"{selector}._domainkey.{domain}", value=value, bits=key.key_size)


def _signs(key_pem: bytes, record: DkimRecord, selector: str, domain: str) -> bool:
    """Sign a message as the sender does and verify it against the record (no DNS: the record is handed in)."""
    import dkim

    from newsletter.delivery.dkim_signing import DkimSigner

    message = (f"From: Doctor <doctor@{domain}>\r\nTo: doctor@{domain}\r\nSubject: doctor\r\n"
               "Date: Mon, 07 Dec 2026 06:00:00 +0000\r\nMessage-ID: <doctor@x>\r\nList-Unsubscribe: <https://x/u/t>\r\n"
               "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n\r\nHello.\r\n").encode()
    signed = DkimSigner(key_pem, selector, domain).sign(message)
    return bool(dkim.verify(signed, dnsfunc=lambda name, timeout=5: "".join(record.strings).encode()))


def dkim_key(settings: Settings) -> list[Finding]:
    domain = settings.sender_domain
    if settings.dkim_key_file is None:
        return [warning("dkim", f"Messages are not DKIM-signed by the service (NEWSLETTER_DKIM_KEY_FILE is not set). "
                        f"Gmail and Yahoo require a DKIM signature aligned with the From domain {domain}. Either "
                        "make a key (`openssl genrsa -out dkim.pem 2048`), set NEWSLETTER_DKIM_KEY_FILE and run the "
                        f"doctor again for the DNS record to publish, or make sure your relay signs with d={domain}.")]
    path = Path(settings.dkim_key_file)
    try:
        key_pem = path.read_bytes()
    except OSError as problem:
        return [error("dkim", f"The DKIM key {path} cannot be read ({problem.strerror}): messages cannot be signed. "
                      "Check the path, and that the user the service runs as may read it.")]
    try:
        record = dkim_record(key_pem, settings.dkim_selector, domain)
    except UnusableKey as problem:
        return [error("dkim", f"The DKIM key {path} cannot be used: {problem}.")]
    if record.bits < 1024:
        return [error("dkim", f"The DKIM key {path} is {record.bits} bits: receivers ignore keys under 1024 bits. "
                      "Make a 2048-bit key (`openssl genrsa -out dkim.pem 2048`).")]
    if not _signs(key_pem, record, settings.dkim_selector, domain):
        return [error("dkim", f"The DKIM key {path} does not make a signature that verifies.")]
    publish = (f"Publish this TXT record in the DNS of {domain} (a zone file line; most DNS control panels take "
               f"the name {record.name} and the value without quotes):\n    {record.zone_line}")
    if record.bits < GOOD_BITS:
        return [warning("dkim", f"The DKIM key {path} works but is {record.bits} bits; Gmail asks for 2048. "
                        + publish)]
    return [ok("dkim", f"The DKIM key {path} is readable, RSA {record.bits} bits, and signs as d={domain} "
               f"(aligned with the From domain), selector {settings.dkim_selector}. " + publish)]


def spf_mechanism(settings: Settings) -> str:
    """What lets the relay send for the domain: its name when it is a public host, else a stand-in."""
    servers = settings.smtp_servers
    host = urlsplit(servers[0].url).hostname if servers else None
    if host and "." in host and not _is_loopback(host):
        return f"a:{host}"
    return "include:<your mail provider's SPF domain>"


def sender_domain(settings: Settings) -> list[Finding]:
    """The From domain, and the SPF and DMARC records it needs, with the rules they serve."""
    domain = settings.sender_domain
    if "." not in domain or _EXAMPLE_DOMAIN.search(domain):
        return [error("from-domain", f"NEWSLETTER_FROM_ADDRESS is on {domain}, which is not a domain you can "
                      "publish records for: Gmail and Yahoo refuse bulk mail without SPF, DKIM and DMARC for the "
                      "From domain. Use an address on your council's domain, such as "
                      "\"Local Offer Team <localoffer@yourcouncil.gov.uk>\".")]
    spf = f'{domain}. IN TXT "v=spf1 {spf_mechanism(settings)} ~all"'
    dmarc = f'_dmarc.{domain}. IN TXT "v=DMARC1; p=none; rua=mailto:dmarc-reports@{domain}"'
    return [
        warning("spf", f"Not checked from here: the envelope sender (bounces+…@{domain}) is on the From domain, so "
                f"SPF for {domain} must allow your relay. If {domain} has no SPF record, publish:\n    {spf}\n"
                "A domain may have only one SPF record: if it has one, add the mechanism to it (Microsoft 365: "
                "include:spf.protection.outlook.com). " + BULK_RULES),
        warning("dmarc", f"Not checked from here: {domain} needs a DMARC record, at least p=none (Gmail and Yahoo "
                f"refuse bulk mail without one). If it has none, publish:\n    {dmarc}\n"
                "Read the reports sent to the rua address, then move to p=quarantine once all your mail passes."),
        _one_click(),
    ]


def _one_click() -> Finding:
    from newsletter.delivery.dkim_signing import SIGNED_HEADERS

    if b"List-Unsubscribe-Post" in SIGNED_HEADERS and b"List-Unsubscribe" in SIGNED_HEADERS:
        return ok("unsubscribe", "Every message carries one-click unsubscribe (List-Unsubscribe with an https link, "
                  "and List-Unsubscribe-Post), covered by the DKIM signature, as Gmail and Yahoo require.")
    return error("unsubscribe", "The DKIM signature does not cover the one-click unsubscribe headers.")


__all__ = ["DkimRecord", "UnusableKey", "dkim_key", "dkim_record", "sender_domain", "spf_mechanism"]
