"""A real SMTP server on loopback for tests (aiosmtpd), which records every message it accepts.

Behaviour can be scripted per recipient and over time: answer 451 for a while, refuse some
addresses with 550, throttle with 421. It counts what it accepted, so tests can compare the server's
view with the delivery rows.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

# A rule gets (recipient, seconds since start) and returns an SMTP reply to refuse with, or None to accept.
Rule = Callable[[str, float], str | None]


@dataclass
class Received:
    envelope_from: str
    recipients: list[str]
    data: bytes
    at: float = 0.0  # time.monotonic() when the server accepted it

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.data, policy=email.policy.default)  # type: ignore[return-value]


@dataclass
class RecordingHandler:
    rules: list[Rule] = field(default_factory=list)
    messages: list[Received] = field(default_factory=list)
    refused: Counter[str] = field(default_factory=Counter)
    started: float = field(default_factory=time.monotonic)
    lock: threading.Lock = field(default_factory=threading.Lock)
    delay: Callable[[str], float] | None = None  # seconds to wait before accepting a recipient's message

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]) -> str:
        elapsed = time.monotonic() - self.started
        for rule in self.rules:
            reply = rule(address, elapsed)
            if reply:
                with self.lock:
                    self.refused[reply[:3]] += 1
                return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        data = envelope.original_content or b""
        if self.delay is not None:
            # A slow relay: the 250 comes this long after the data, for this connection only.
            await asyncio.sleep(self.delay(envelope.rcpt_tos[0] if envelope.rcpt_tos else ""))
        with self.lock:
            self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), data, time.monotonic()))
            count = len(self.messages)
        return f"250 2.0.0 accepted as message {count}"

    def by_recipient(self) -> Counter[str]:
        with self.lock:
            return Counter(rcpt for received in self.messages for rcpt in received.recipients)

    def wait_for(self, count: int, timeout: float = 60.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.messages) >= count:
                    return True
            time.sleep(0.05)
        return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SmtpServer:
    """Start with `with SmtpServer() as server:`; `server.url` is the NEWSLETTER_SMTP_URL to use."""

    def __init__(self, rules: list[Rule] | None = None, delay: Callable[[str], float] | None = None) -> None:
        self.handler = RecordingHandler(rules=list(rules or []), delay=delay)
        self.port = free_port()
        # decode_data=False keeps the raw bytes; a large size limit because MJML issues are big.
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port,
                                     data_size_limit=10 * 1024 * 1024, ready_timeout=10)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def messages(self) -> list[Received]:
        return self.handler.messages

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()
