"""The SMTP check against a real SMTP server on loopback (aiosmtpd) with STARTTLS or TLS and a login.

The server's certificate is made here, for 127.0.0.1, by a certificate authority made here too; the
doctor trusts it only when SSL_CERT_FILE names it, as an operator with a private authority would.
"""

from __future__ import annotations

import datetime
import warnings
import ipaddress
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from newsletter.config import Settings
from newsletter.doctor.smtp import probe, smtp_servers

from tests.smtp import RecordingHandler, free_port

USER, PASSWORD = "newsletter@yourcouncil.gov.uk", "right-password"


def _certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (and localhost) and its key, as PEM files."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                    x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


def _authenticator(server, session, envelope, mechanism, auth_data) -> AuthResult:  # type: ignore[no-untyped-def]
    good = isinstance(auth_data, LoginPassword) and auth_data.login == USER.encode() \
        and auth_data.password == PASSWORD.encode()
    return AuthResult(success=good, handled=False)  # handled=False: the server answers 535 itself


class TlsServer:
    """aiosmtpd with STARTTLS required before the login (like a submission port), or TLS from the start."""

    def __init__(self, cert_file: Path, key_file: Path, implicit_tls: bool = False, starttls: bool = True) -> None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert_file, key_file)
        self.handler = RecordingHandler()
        self.port = free_port()
        options: dict[str, object] = {"authenticator": _authenticator, "auth_required": True}
        if implicit_tls:
            options.update(ssl_context=context, auth_require_tls=False)
        elif starttls:
            options.update(tls_context=context, require_starttls=True)
        else:
            options.update(auth_require_tls=False)  # a relay on this machine, as smtp:// on loopback allows
        warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS", UserWarning)
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, ready_timeout=10, **options)

    def url(self, scheme: str, user: str = USER, password: str = PASSWORD) -> str:
        from urllib.parse import quote

        return f"{scheme}://{quote(user, safe='')}:{quote(password, safe='')}@127.0.0.1:{self.port}"

    def __enter__(self) -> TlsServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    return _certificate(tmp_path)


@pytest.fixture
def trusted(certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    return certificate


@pytest.fixture
def starttls_server(certificate: tuple[Path, Path]) -> Iterator[TlsServer]:
    with TlsServer(*certificate) as server:
        yield server


def test_starttls_and_the_right_password_are_fine_and_nothing_is_sent(trusted: tuple[Path, Path],
                                                                       starttls_server: TlsServer) -> None:
    finding = probe(starttls_server.url("smtp+starttls"))
    assert finding.level == "ok", finding.message
    assert "STARTTLS with a trusted certificate" in finding.message and f"login for {USER} accepted" in finding.message
    assert starttls_server.handler.messages == []


def test_a_wrong_password_is_an_error_that_says_so(trusted: tuple[Path, Path], starttls_server: TlsServer) -> None:
    finding = probe(starttls_server.url("smtp+starttls", password="wrong-password"))
    assert finding.level == "error"
    assert "refused the user name or password" in finding.message and "535" in finding.message
    assert "wrong-password" not in finding.message


def test_a_certificate_nobody_vouches_for_is_an_error(starttls_server: TlsServer, monkeypatch: pytest.MonkeyPatch,
                                                      tmp_path: Path) -> None:
    (tmp_path / "other").mkdir()
    other, _ = _certificate(tmp_path / "other")
    monkeypatch.setenv("SSL_CERT_FILE", str(other))  # trusts some other authority, not the server's
    finding = probe(starttls_server.url("smtp+starttls"))
    assert finding.level == "error" and "not trusted" in finding.message


def test_tls_from_the_start(trusted: tuple[Path, Path]) -> None:
    with TlsServer(*trusted, implicit_tls=True) as server:
        finding = probe(server.url("smtps"))
    assert finding.level == "ok" and "TLS with a trusted certificate" in finding.message


def test_asking_for_starttls_from_a_server_without_it_is_an_error(certificate: tuple[Path, Path]) -> None:
    with TlsServer(*certificate, starttls=False) as server:
        finding = probe(server.url("smtp+starttls"))
        assert finding.level == "error" and "does not offer STARTTLS" in finding.message
        # Plain smtp:// to a server on this machine is allowed (a local relay), with the login checked.
        assert probe(server.url("smtp")).level == "ok"
        assert probe(server.url("smtp", password="nope")).level == "error"


def test_a_server_that_is_not_there_is_an_error(settings: Settings) -> None:
    finding = probe(f"smtp+starttls://127.0.0.1:{free_port()}", timeout=3)
    assert finding.level == "error" and "cannot be reached" in finding.message


def test_every_configured_server_is_checked(trusted: tuple[Path, Path], starttls_server: TlsServer,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from newsletter.config import load_settings

    good, bad = starttls_server.url("smtp+starttls"), starttls_server.url("smtp+starttls", password="x")
    findings = smtp_servers(load_settings(smtp_url=f"{good},{bad}"))
    assert [finding.level for finding in findings] == ["ok", "error"]
    assert smtp_servers(load_settings())[0].level == "warning"  # no SMTP: the outbox
