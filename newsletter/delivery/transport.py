"""Where finished messages go: an SMTP server, or the outbox folder on the embedded default.

Every transport has the same small interface, so the sending engine, test sends and confirmation
emails do not care which one is behind it. SMTP replies are turned into three error types because
the engine treats them differently: a temporary failure is retried, a permanent one bounces the
row, and a throttling reply slows the whole campaign down instead of burning retries.
"""

from __future__ import annotations

import smtplib
import ssl
import time
from pathlib import Path
from secrets import token_hex
from typing import Protocol
from urllib.parse import unquote, urlsplit

from newsletter.config import Settings


class DeliveryError(Exception):
    def __init__(self, code: int, reply: str):
        self.code = code
        self.reply = reply
        super().__init__(f"{code} {reply}")


class TemporaryFailure(DeliveryError):
    """4xx or a lost connection: try again later."""


class PermanentFailure(DeliveryError):
    """5xx for this recipient: do not try again; the address may be suppressed."""


class Throttled(TemporaryFailure):
    """The server asks us to slow down (421, 451 4.7.x rate limits, 454): pace the whole campaign."""


# Replies that mean "too fast" rather than "this recipient, later".
THROTTLE_CODES = {421, 454}
THROTTLE_WORDS = ("rate", "too many", "throttl", "slow down", "try again later")


class Transport(Protocol):
    def send(self, sender: str, recipient: str, message: bytes) -> str:
        """Hand over one message; returns the server's acceptance reply or raises a DeliveryError."""
        ...

    def close(self) -> None: ...


class OutboxTransport:
    """The embedded default: each message becomes an .eml file a person can open."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)

    def send(self, sender: str, recipient: str, message: bytes) -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"{time.strftime('%Y%m%dT%H%M%S')}-{token_hex(6)}.eml"
        tmp = self.folder / (name + ".tmp")
        # The Return-Path line is what a receiving server would add from the envelope sender.
        tmp.write_bytes(b"Return-Path: <" + sender.encode() + b">\r\n" + message)
        tmp.replace(self.folder / name)
        return f"250 written to {name}"

    def close(self) -> None:
        pass


def _classify(code: int, reply: str) -> DeliveryError:
    text = reply.lower()
    if code in THROTTLE_CODES or (400 <= code < 500 and any(word in text for word in THROTTLE_WORDS)):
        return Throttled(code, reply)
    if 400 <= code < 500:
        return TemporaryFailure(code, reply)
    return PermanentFailure(code, reply)


class SmtpTransport:
    """One SMTP connection kept open across messages (reconnecting when the server drops it)."""

    def __init__(self, url: str, timeout: float = 30.0, local_hostname: str | None = None):
        parts = urlsplit(url)
        self.scheme = parts.scheme
        self.host = parts.hostname or "localhost"
        self.port = parts.port or (465 if self.scheme == "smtps" else 587 if self.scheme == "smtp+starttls" else 25)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.timeout = timeout
        self.local_hostname = local_hostname
        self._connection: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        # smtplib verifies nothing unless given a default context: always give it one.
        context = ssl.create_default_context()
        try:
            if self.scheme == "smtps":
                connection: smtplib.SMTP = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=self.timeout, context=context, local_hostname=self.local_hostname
                )
            else:
                connection = smtplib.SMTP(self.host, self.port, timeout=self.timeout, local_hostname=self.local_hostname)
                connection.ehlo_or_helo_if_needed()
                if self.scheme == "smtp+starttls":
                    connection.starttls(context=context)
                    connection.ehlo()
            connection.ehlo_or_helo_if_needed()
            if self.username:
                connection.login(self.username, self.password or "")
        except smtplib.SMTPResponseException as error:
            raise _classify(error.smtp_code, _text(error.smtp_error)) from None
        except (OSError, smtplib.SMTPException) as error:
            raise TemporaryFailure(0, f"cannot connect to {self.host}:{self.port}: {error}") from None
        return connection

    def send(self, sender: str, recipient: str, message: bytes) -> str:
        """MAIL, RCPT and DATA for one message; pipelined in one round trip when the server allows it.

        `message` must already have CRLF line ends (every builder here makes it so). smtplib's own
        `data()` re-scans the whole message with two regular expressions to fix line ends and stuff
        dots, which costs more than building the message; here a dot at a line start is stuffed
        with one fast search, and nothing else is rewritten.
        """
        if self._connection is None:
            self._connection = self._connect()
        connection = self._connection
        if message.startswith(b".") or b"\r\n." in message:
            message = (b"." + message if message.startswith(b".") else message).replace(b"\r\n.", b"\r\n..")
        try:
            if self._pipelining:
                connection.send(f"MAIL FROM:<{sender}>\r\nRCPT TO:<{recipient}>\r\nDATA\r\n".encode())
                replies = [connection.getreply() for _ in range(3)]
            else:
                replies = []
                for command in (f"MAIL FROM:<{sender}>", f"RCPT TO:<{recipient}>", "DATA"):
                    connection.send(command.encode() + b"\r\n")
                    replies.append(connection.getreply())
                    if replies[-1][0] >= 400:
                        break
            for (code, reply), allowed in zip(replies, ((250,), (250, 251), (354,))):
                if code not in allowed:
                    if any(c == 354 for c, _ in replies):  # the server wants data after all: end it empty
                        connection.send(b".\r\n")
                        connection.getreply()
                    self._reset()
                    raise _classify(code, _text(reply))
            connection.send(message + (b".\r\n" if message.endswith(b"\r\n") else b"\r\n.\r\n"))
            code, reply = connection.getreply()
            if code != 250:
                raise _classify(code, _text(reply))
            return f"{code} {_text(reply)}"
        except smtplib.SMTPServerDisconnected as error:
            self._drop()
            raise TemporaryFailure(0, f"connection lost: {error}") from None
        except OSError as error:
            self._drop()
            raise TemporaryFailure(0, f"connection error: {error}") from None

    @property
    def _pipelining(self) -> bool:
        return bool(self._connection is not None and self._connection.has_extn("pipelining"))

    def _reset(self) -> None:
        try:
            if self._connection is not None:
                self._connection.rset()
        except (OSError, smtplib.SMTPException):
            self._drop()

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.close()
            except OSError:
                pass

    def close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.quit()
            except (OSError, smtplib.SMTPException):
                pass
        self._drop()


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def transport_for(settings: Settings) -> Transport:
    """The first configured server (test sends, confirmation emails), or the outbox."""
    servers = settings.smtp_servers
    if not servers:
        return OutboxTransport(settings.outbox_dir)
    return SmtpTransport(servers[0].url)
