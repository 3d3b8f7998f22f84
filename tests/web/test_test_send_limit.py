"""A test send goes to a handful of addresses, is logged with who sent it to whom, and says its cap.

Any editor can test-send a draft nobody has approved: without a cap, a test send is an unapproved
mailing to anyone. Real web app, real CLI, real SMTP server on loopback; SQLite and PostgreSQL.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable, Iterator

import pytest
from click.testing import CliRunner
from flask import Flask

from newsletter.config import Settings, get_settings, reset_settings
from newsletter.db import session_scope
from newsletter.issues import service
from newsletter.web import create_app
from tests.conftest import EXAMPLE
from tests.delivery.conftest import SLUG
from tests.smtp import SmtpServer
from tests.web.conftest import Team, TeamClient

LOGGER = "newsletter.delivery.testsend"


@pytest.fixture
def smtp(db: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        monkeypatch.setenv("NEWSLETTER_SMTP_URL", server.url)
        reset_settings()
        yield server
    reset_settings()


@pytest.fixture
def draft(db: Settings, smtp: SmtpServer) -> str:
    """The example issue as a draft nobody has approved."""
    with session_scope() as session:
        issue, _ = service.import_issue(session, EXAMPLE, get_settings())
        assert issue.status.value == "draft"
        return issue.slug


@pytest.fixture
def app(db: Settings, smtp: SmtpServer) -> Flask:  # overrides tests/web's: this one mails the SMTP server
    return create_app(get_settings())


def _addresses(count: int) -> list[str]:
    return [f"team{n}@example.org" for n in range(count)]


def _page(client: TeamClient, response) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == 302
    return html.unescape(client.get(response.headers["Location"]).get_data(as_text=True))


def test_the_composer_caps_a_test_send_and_logs_it(
        as_user: Callable[[str], TeamClient], team: Team, draft: str, smtp: SmtpServer,
        caplog: pytest.LogCaptureFixture) -> None:
    client = as_user(team.editor)
    editor = html.unescape(client.get(f"/team/issues/{draft}").get_data(as_text=True))
    assert "Up to 10 addresses, separated by commas or new lines." in editor

    caplog.set_level(logging.INFO, logger=LOGGER)
    page = _page(client, client.post(f"/team/issues/{draft}/test-send", {"addresses": ", ".join(_addresses(11))}))
    assert "A test can go to at most 10 addresses; this asked for 11." in page
    assert smtp.messages == []
    [refused] = [r for r in caplog.records if r.name == LOGGER]
    assert refused.levelname == "WARNING" and f"by {team.editor} refused: 11 addresses" in refused.getMessage()

    # Ten, written twice over in different cases, is ten: a repeat is not a second copy.
    ten = _addresses(10)
    typed = "\n".join(ten + [address.upper() for address in ten[:3]])
    page = _page(client, client.post(f"/team/issues/{draft}/test-send", {"addresses": typed}))
    assert page.count("Sent a test of") == 10
    assert sorted(r for m in smtp.messages for r in m.recipients) == sorted(ten)
    assert all(str(m.message["Subject"]).strip().startswith("[Test] ") for m in smtp.messages)
    [info] = [r for r in caplog.records if r.name == LOGGER and r.levelno == logging.INFO]
    assert info.getMessage() == f"test send of {draft!r} by {team.editor} to 10 addresses: " + ", ".join(ten)


def test_the_command_line_caps_a_test_send_with_the_setting(
        draft: str, smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    from newsletter.cli import main

    def send_test(*addresses: str):  # type: ignore[no-untyped-def]
        return CliRunner().invoke(main, ["send-test", SLUG, *(arg for a in addresses for arg in ("--to", a))])

    caplog.set_level(logging.INFO, logger=LOGGER)
    refused = send_test(*_addresses(11))
    assert refused.exit_code == 1
    assert "Error: A test can go to at most 10 addresses; this asked for 11." in refused.output
    assert smtp.messages == []

    monkeypatch.setenv("NEWSLETTER_TEST_SEND_MAX_ADDRESSES", "2")
    reset_settings()
    assert "at most 2 addresses; this asked for 3" in send_test(*_addresses(3)).output
    assert smtp.messages == []
    sent = send_test(*_addresses(2))
    assert sent.exit_code == 0, sent.output
    assert sorted(r for m in smtp.messages for r in m.recipients) == _addresses(2)
    [info] = [r for r in caplog.records if r.name == LOGGER and r.levelno == logging.INFO]
    assert info.getMessage().startswith(f"test send of {SLUG!r} by cli") and "to 2 addresses" in info.getMessage()
