"""Counting tests: a real send to readers on a real SMTP server, and the real app under waitress
answering a real HTTP client (http.client: it follows no redirect and sends no user agent unless told).
"""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest

from newsletter.config import Settings
from newsletter.db import session_scope
from newsletter.delivery import campaigns
from newsletter.delivery.transport import SmtpTransport
from newsletter.issues import service, store
from newsletter.issues.models import IssueStatus

from tests.conftest import EXAMPLE
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
             headers: dict[str, str] | None = None, form: dict[str, str] | None = None) -> Answer:
        """`form` is sent as a POST of a filled-in HTML form."""
        parts, here = urlsplit(link), urlsplit(self.url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        connection = http.client.HTTPConnection(here.hostname, here.port, timeout=30)
        try:
            sent = dict(headers or {})
            if agent is not None:
                sent["User-Agent"] = agent
            body = None
            if form is not None:
                method, body = "POST", urlencode(form)
                sent["Content-Type"] = "application/x-www-form-urlencoded"
            connection.request(method, path, body=body, headers=sent)
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


POLL = """
  - type: poll
    question: Which time suits you best for the next coffee morning?
    options: [A weekday morning, A weekday evening, A Saturday]
    other: true
    closes: 2099-07-31
"""


def approved_issue_with_a_poll(settings: Settings, folder: Path) -> int:
    """The example issue with a poll added at the end, approved: feedback links and a poll in every copy."""
    copy = folder / "with-poll.yaml"
    copy.write_text(EXAMPLE.read_text(encoding="utf-8").rstrip("\n") + "\n" + POLL, encoding="utf-8")
    (folder / "media").mkdir(exist_ok=True)
    for media in (EXAMPLE.parent / "media").iterdir():
        (folder / "media" / media.name).write_bytes(media.read_bytes())
    with session_scope() as session:
        issue, _ = service.import_issue(session, copy, settings)
        store.move(issue, IssueStatus.IN_REVIEW)
        store.move(issue, IssueStatus.APPROVED)
        return issue.id


def send_to_readers(settings: Settings, count: int, poll_in: Path | None = None) -> tuple[int, list[Received]]:
    """The example issue (with a poll when given a folder to write it in), approved and sent to `count` readers
    through a real SMTP server; (campaign, messages)."""
    if poll_in is None:
        approved_issue(settings)
    else:
        approved_issue_with_a_poll(settings, poll_in)
    make_readers(make_list(), count)
    with session_scope() as session:
        campaign_id = campaigns.create_campaign(session, store.get_issue(session, SLUG), ["send-news"], settings).id
    with SmtpServer() as server:
        transport = SmtpTransport(server.url)
        run_to_end(settings, campaign_id, transport)
        transport.close()
    return campaign_id, list(server.messages)
