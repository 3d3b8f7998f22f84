"""Counting tests: a real send to readers on a real SMTP server, and the real app under waitress
answering a real HTTP client (http.client: it follows no redirect and sends no user agent unless told).
"""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest

from newsletter.config import Settings
from newsletter.db import session_scope
from newsletter.delivery import campaigns
from newsletter.delivery.transport import SmtpTransport
from newsletter.issues import store

from tests.delivery.conftest import SLUG, approved_issue, fast, make_list, make_readers, run_to_end  # noqa: F401
from tests.smtp import Received, SmtpServer

BROWSER = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/131.0.0.0 Safari/537.36")


@dataclass(frozen=True)
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: str


@dataclass(frozen=True)
class Served:
    """The app at `url`; `open(link)` asks it for the path of a link written for BASE_URL."""

    url: str

    def open(self, link: str, method: str = "GET", agent: str | None = BROWSER,
             headers: dict[str, str] | None = None) -> Answer:
        parts, here = urlsplit(link), urlsplit(self.url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        connection = http.client.HTTPConnection(here.hostname, here.port, timeout=30)
        try:
            sent = dict(headers or {})
            if agent is not None:
                sent["User-Agent"] = agent
            connection.request(method, path, headers=sent)
            response = connection.getresponse()
            return Answer(response.status, response.headers, response.read().decode("utf-8", "replace"))
        finally:
            connection.close()


@pytest.fixture
def served(db: Settings) -> Iterator[Served]:
    """The real app, create_app(db), under waitress on a free port, on either database."""
    from newsletter.web import create_app
    from tests.browser.conftest import _start_server, _stop_server

    running = _start_server()
    running[0].current.app = create_app(db)
    try:
        yield Served(running[0].url)
    finally:
        running[0].current.app = None
        _stop_server(running)


def send_to_readers(settings: Settings, count: int) -> tuple[int, list[Received]]:
    """The example issue, approved and sent to `count` readers through a real SMTP server; (campaign, messages)."""
    approved_issue(settings)
    make_readers(make_list(), count)
    with session_scope() as session:
        campaign_id = campaigns.create_campaign(session, store.get_issue(session, SLUG), ["send-news"], settings).id
    with SmtpServer() as server:
        transport = SmtpTransport(server.url)
        run_to_end(settings, campaign_id, transport)
        transport.close()
    return campaign_id, list(server.messages)
