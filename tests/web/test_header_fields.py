"""The team's forms refuse a line break in any value that becomes an email header (and in their
other one-line fields), naming the field."""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from newsletter.config import Settings
from newsletter.db import session_scope
from newsletter.issues import store as issue_store
from subscribers import store
from subscribers.models import MailingList
from tests.web.conftest import Team, TeamClient

BREAKS = ["\r\n", "\n", "\u2028", "\u2029", "\x85", "\x0b", "\x0c"]


def _text(response) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(response.get_data(as_text=True))


def _list_count() -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(MailingList)) or 0


@pytest.mark.parametrize("brk", BREAKS)
def test_a_list_named_to_inject_a_header_is_refused_by_the_form(
    as_user: Callable[[str], TeamClient], team: Team, brk: str
) -> None:
    client = as_user(team.approver)
    response = client.post("/team/lists", {"slug": "evil", "name": f"Evil list{brk}Bcc: victim@example.com",
                                           "visibility": "public", "double_opt_in": "on"})
    page = _text(response)
    assert response.status_code == 400
    assert 'href="#field-name"' in page
    assert "The name must be one line, without line breaks." in page
    assert _list_count() == 0


def test_a_subject_with_u2028_is_refused_by_the_new_issue_form(
    as_user: Callable[[str], TeamClient], team: Team
) -> None:
    client = as_user(team.editor)
    response = client.post("/team/issues/new", {"title": "December news",
                                                "subject": "December news\u2028Bcc: victim@example.com",
                                                "preheader": "", "date": "2026-12-01", "language": "en-GB"})
    page = _text(response)
    assert response.status_code == 400
    assert "must be one line, without line breaks" in page
    assert 'href="#subject"' in page or 'href="#field-subject"' in page
    with session_scope() as session:
        assert issue_store.list_issues(session) == []


@pytest.mark.parametrize("field", ["subject", "title", "preheader"])
def test_issue_details_with_a_line_break_are_refused_with_the_field_named(
    as_user: Callable[[str], TeamClient], team: Team, field: str
) -> None:
    client = as_user(team.editor)
    created = client.post("/team/issues/new", {"title": "December news", "subject": "December news",
                                               "preheader": "", "date": "2026-12-01", "language": "en-GB"})
    slug = created.headers["Location"].rsplit("/", 1)[1]
    details = {"title": "December news", "subject": "December news", "preheader": "", "date": "2026-12-01",
               "language": "en-GB"}
    details[field] = "December\x85news"
    response = client.post(f"/team/issues/{slug}/details", details)
    assert response.status_code == 302
    page = _text(client.get(response.headers["Location"]))
    label = {"subject": "Email subject", "title": "Title", "preheader": "Preview text"}[field]  # as the form says
    assert f"{label}: must be one line, without line breaks" in page
    with session_scope() as session:
        issue = issue_store.get_issue(session, slug)
        assert (issue.title, issue.subject, issue.preheader) == ("December news", "December news", "")


def test_a_heading_block_with_a_line_break_is_refused(as_user: Callable[[str], TeamClient], team: Team) -> None:
    client = as_user(team.editor)
    created = client.post("/team/issues/new", {"title": "December news", "subject": "December news",
                                               "preheader": "", "date": "2026-12-01", "language": "en-GB"})
    slug = created.headers["Location"].rsplit("/", 1)[1]
    response = client.post(f"/team/issues/{slug}/blocks/new", {"type": "heading", "text": "Dates\u2028for your diary",
                                                                "level": "2"})
    assert response.status_code in (302, 400)
    with session_scope() as session:
        assert issue_store.get_issue(session, slug).blocks == []


def test_a_stored_subject_with_u2028_makes_a_test_send_say_why_not_fail(
    as_user: Callable[[str], TeamClient], team: Team, db: Settings
) -> None:
    """A subject saved before the rule existed: the test send explains, and nothing half-built goes out."""
    client = as_user(team.editor)
    created = client.post("/team/issues/new", {"title": "December news", "subject": "December news",
                                               "preheader": "", "date": "2026-12-01", "language": "en-GB"})
    slug = created.headers["Location"].rsplit("/", 1)[1]
    with session_scope() as session:
        issue_store.get_issue(session, slug).subject = "December news\u2028Bcc: victim@example.com"
    response = client.post(f"/team/issues/{slug}/test-send", {"addresses": "ed@example.org"})
    assert response.status_code == 302
    page = _text(client.get(response.headers["Location"]))
    assert ("Could not send the test: The subject cannot go in an email header: it must be one line, "
            "without line breaks or control characters (it holds the character U+2028).") in page
    outbox = Path(db.outbox_dir)
    assert not outbox.exists() or not any(outbox.iterdir())


@pytest.mark.parametrize("brk", ["\r\n", "\u2028", "\x85"])
def test_a_team_members_name_is_one_line(db: Settings, brk: str) -> None:
    from newsletter.accounts import service
    from newsletter.accounts.models import Role

    with pytest.raises(service.AccountError, match="The person's name must be one line, without line breaks."):
        with session_scope() as session:
            service.create_user(session, "kim@example.org", f"Kim{brk}Bcc: victim@example.com",
                                "a long enough password", Role.EDITOR)
