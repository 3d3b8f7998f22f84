"""Each SMTP server: reachable, EHLO, STARTTLS or TLS with a trusted certificate, the login accepted.

The doctor talks to the server exactly as the sending transport does (newsletter/delivery/transport.py)
and stops before MAIL FROM: no message is sent.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
from urllib.parse import unquote, urlsplit

from newsletter.config import Settings, _is_loopback
from newsletter.doctor.findings import Finding, error, ok, warning

TIMEOUT = 10.0


def smtp_servers(settings: Settings, context: ssl.SSLContext | None = None) -> list[Finding]:
    servers = settings.smtp_servers
    if not servers:
        return [warning("smtp", f"No NEWSLETTER_SMTP_URL: every email is written to the outbox folder "
                        f"{settings.outbox_dir} and nobody receives it. Set it to your mail relay, such as "
                        "smtp+starttls://user:password@smtp.yourcouncil.gov.uk:587.")]
    return [probe(server.url, context) for server in servers]


def _log_in(connection: smtplib.SMTP, username: str, password: str) -> None:
    """smtplib's login, without trying the next mechanism after a refusal: a refused password stays refused,
    and some servers lock an account after a few failures."""
    connection.user, connection.password = username, password
    offered = connection.esmtp_features.get("auth", "").upper().split()
    for mechanism in ("CRAM-MD5", "PLAIN", "LOGIN"):
        if mechanism in offered:
            method = getattr(connection, "auth_" + mechanism.lower().replace("-", "_"))
            connection.auth(mechanism, method)
            return
    raise smtplib.SMTPException(f"the server offers no login method smtplib knows ({' '.join(offered)})")


def _reply(problem: smtplib.SMTPResponseException) -> str:
    said = problem.smtp_error.decode("utf-8", "replace") if isinstance(problem.smtp_error, bytes) \
        else str(problem.smtp_error)
    return f"{problem.smtp_code} {' '.join(said.split())}"


def probe(url: str, context: ssl.SSLContext | None = None, timeout: float = TIMEOUT) -> Finding:
    """Connect, EHLO, secure the connection as the URL says, log in, QUIT; one finding for the server."""
    parts = urlsplit(url)
    scheme = parts.scheme
    host = parts.hostname or "localhost"
    port = parts.port or (465 if scheme == "smtps" else 587 if scheme == "smtp+starttls" else 25)
    name = f"{host}:{port}"
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else ""
    # The same verification as sending: smtplib checks no certificate without a default context.
    context = context or ssl.create_default_context()
    connection: smtplib.SMTP | None = None
    try:
        if scheme == "smtps":
            connection = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
        else:
            connection = smtplib.SMTP(host, port, timeout=timeout)
        code, _ = connection.ehlo()
        if code != 250:
            return error("smtp", f"The SMTP server {name} refused EHLO ({code}).")
        offered_starttls = connection.has_extn("starttls")
        if scheme == "smtp+starttls":
            if not offered_starttls:
                return error("smtp", f"The SMTP server {name} does not offer STARTTLS, which NEWSLETTER_SMTP_URL "
                             "(smtp+starttls://) asks for. Check the port (587 usually) or use smtps:// on 465.")
            connection.starttls(context=context)
            connection.ehlo()
        if username:
            if not connection.has_extn("auth"):
                return error("smtp", f"The SMTP server {name} does not offer a login (AUTH) on this connection, "
                             "but NEWSLETTER_SMTP_URL has a user name. Many servers offer it only after STARTTLS: "
                             "use smtp+starttls://.")
            _log_in(connection, username, password)
        connection.quit()
        connection = None
    except ssl.SSLCertVerificationError as problem:
        return error("smtp", f"The SMTP server {name}'s certificate is not trusted ({problem.verify_message}): "
                     "mail would go to whoever answers there. Give the server a certificate for its name from a "
                     "public authority, or add your own authority to the system's trust store.")
    except ssl.SSLError as problem:
        return error("smtp", f"TLS with the SMTP server {name} failed ({problem.reason or problem}): is the port right "
                     "for smtps:// (465) or smtp+starttls:// (587)?")
    except smtplib.SMTPAuthenticationError as problem:
        return error("smtp", f"The SMTP server {name} refused the user name or password in NEWSLETTER_SMTP_URL "
                     f"({_reply(problem)}). Check them with your mail provider; a password with @, : or / must be "
                     "written %40, %3A, %2F.")
    except smtplib.SMTPResponseException as problem:
        return error("smtp", f"The SMTP server {name} refused the connection: {_reply(problem)}.")
    except (socket.timeout, TimeoutError):
        return error("smtp", f"The SMTP server {name} did not answer within {timeout:g} s: is a firewall in the way?")
    except (OSError, smtplib.SMTPException) as problem:
        return error("smtp", f"The SMTP server {name} cannot be reached: {problem}. Check the host and port in "
                     "NEWSLETTER_SMTP_URL and that this machine may connect to it.")
    finally:
        if connection is not None:
            try:
                connection.close()
            except OSError:
                pass
    secured = {"smtps": "TLS", "smtp+starttls": "STARTTLS"}.get(scheme)
    login = f"the login for {username} accepted" if username else "no login configured (the relay must allow this " \
                                                                  "machine by its address)"
    if secured is None and not _is_loopback(host):
        hint = " It offers STARTTLS: use smtp+starttls://." if offered_starttls else ""
        return warning("smtp", f"The SMTP server {name} answers, {login}, but mail and the password cross the network "
                       f"unencrypted (smtp://).{hint}")
    how = f", {secured} with a trusted certificate" if secured else ""
    return ok("smtp", f"The SMTP server {name} answers: EHLO{how}, {login}. No message was sent.")


__all__ = ["probe", "smtp_servers"]
