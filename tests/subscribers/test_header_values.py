"""Lists and readers' names reach email headers (List-Id, To): no way in lets them carry a line break.

A list name with a line break is refused wherever a list is created (store, CLI, the team's form is in
tests/web/test_header_fields.py). A reader's name is tidied where it enters (the form, the preference
centre, a CSV import, `subscribers add`): line breaks and control characters become spaces, so a
family's typing slip never turns them away, and nothing they type can write a header.
"""

from __future__ import annotations

import email
import email.policy
import os
import subprocess
import sys
from pathlib import Path

import lxml.html
import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from newsletter.config import Settings
from newsletter.db import session_scope
from subscribers import links, membership, store
from subscribers.csv_import import import_csv
from subscribers.errors import InvalidList
from subscribers.models import ConsentSource, MailingList
from tests.smtp import SmtpServer
from tests.subscribers.conftest import Lists, path_of, post_form

BREAKS = ["\r\n", "\r", "\n", "\u2028", "\u2029", "\x85", "\x0b", "\x0c"]
EVIL = "Evil list{}Bcc: victim@example.com"


def _list_count() -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(MailingList)) or 0


def _header_names(raw: bytes) -> list[str]:
    return list(email.message_from_bytes(raw, policy=email.policy.compat32).keys())


def _name_of(address: str) -> str | None:
    with session_scope() as session:
        return store.get_subscriber(session, address).name


def _tidy(name: str | None) -> None:
    """A stored name is one line of printable text."""
    assert name is not None
    assert name.isprintable() and name == " ".join(name.split())


@pytest.mark.parametrize("brk", BREAKS)
def test_store_refuses_a_list_name_with_a_line_break(db: Settings, brk: str) -> None:
    with pytest.raises(InvalidList) as raised:
        with session_scope() as session:
            store.create_list(session, "evil", EVIL.format(brk))
    assert raised.value.field == "name"
    assert str(raised.value) == "the name must be one line, without line breaks"
    assert _list_count() == 0


@pytest.mark.parametrize("control", ["\x00", "\x1b", "\x7f", "\x9b", "\t"])
def test_store_refuses_a_list_name_with_a_control_character(db: Settings, control: str) -> None:
    with pytest.raises(InvalidList, match="must not contain tabs or other invisible control characters"):
        with session_scope() as session:
            store.create_list(session, "evil", f"Evil{control}list")
    assert _list_count() == 0


def test_store_refuses_a_list_name_too_long_for_its_column(db: Settings) -> None:
    with pytest.raises(InvalidList, match="200 characters or fewer"):
        with session_scope() as session:
            store.create_list(session, "long", "x" * 201)
    with session_scope() as session:
        assert store.create_list(session, "fine", "  Short breaks  ").name == "Short breaks"


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items()}
    return subprocess.run([sys.executable, "-m", "newsletter.cli", *args], cwd=cwd, env=environment,
                          capture_output=True, text=True, timeout=180, check=False)


def test_cli_refuses_a_list_name_with_a_line_break(db: Settings, tmp_path: Path) -> None:
    result = _cli("lists", "create", "evil", "--name", "Evil list\r\nBcc: victim@example.com", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == ["Error: the name must be one line, without line breaks"]
    result = _cli("lists", "create", "evil", "--name", "Evil list\u2028Bcc: victim@example.com", cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert _list_count() == 0


def test_cli_subscribers_add_tidies_the_name_and_the_email_has_no_extra_header(
    db: Settings, smtp: SmtpServer, lists: Lists, tmp_path: Path
) -> None:
    result = _cli("subscribers", "add", "sam@example.org", "--list", "send-news",
                  "--name", "Sam\u2028Bcc: victim@example.com", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert _name_of("sam@example.org") == "Sam Bcc: victim@example.com"
    [confirmation] = smtp.messages
    assert confirmation.recipients == ["sam@example.org"]
    assert "Bcc" not in _header_names(confirmation.data)
    assert confirmation.message["To"].addresses[0].display_name == "Sam Bcc: victim@example.com"


@pytest.mark.parametrize("brk", ["\r\n", "\u2028", "\x85", "\x0b"])
def test_signup_form_tidies_the_name(client: FlaskClient, lists: Lists, smtp: SmtpServer, brk: str) -> None:
    response = post_form(client, "/subscribe", {"email": "jo@example.org", "lists": [str(lists.news)],
                                                "name": f"Jo{brk}Bcc: victim@example.com"})
    assert response.status_code == 200, response.data[:300]
    _tidy(_name_of("jo@example.org"))
    assert _name_of("jo@example.org") == "Jo Bcc: victim@example.com"
    [confirmation] = smtp.messages
    assert confirmation.recipients == ["jo@example.org"]
    assert "Bcc" not in _header_names(confirmation.data)


def test_preference_centre_tidies_the_name(client: FlaskClient, lists: Lists, db: Settings) -> None:
    with session_scope() as session:
        person, _ = store.get_or_create_subscriber(session, "jo@example.org", "Jo")
        membership.add_confirmed(session, person, store.lists_by_id(session, [lists.news])[0],
                                 source=ConsentSource.IMPORT, wording="Paper form")
        prefs = path_of(links.preferences_url(db, person), db)
    # Post the form as the page gives it (with whatever hidden fields it carries), changing only the name.
    form = lxml.html.fromstring(client.get(prefs).get_data(as_text=True)).xpath("//form[.//input[@name='name']]")[0]
    data: dict[str, list[str]] = {}
    for field in form.xpath(".//input[@name]"):
        if field.get("type") == "checkbox" and field.get("checked") is None:
            continue
        data.setdefault(field.get("name"), []).append(field.get("value") or "")
    data["name"] = ["Jo\u2029\x0cBcc: victim@example.com"]
    response = client.post(prefs, data=data)
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    assert _name_of("jo@example.org") == "Jo Bcc: victim@example.com"


def test_csv_import_tidies_names_in_both_paths(db: Settings, lists: Lists, tmp_path: Path) -> None:
    source = tmp_path / "families.csv"
    source.write_text('Email,Name\r\njo@example.org,"Jo\r\nBcc: victim@example.com"\r\n'
                      "sam@example.org,Sam\u2028Bcc: victim@example.com\r\n", encoding="utf-8")
    with session_scope() as session:
        news = store.get_lists(session, ["send-news"])
    report = import_csv(source, news, session_scope, consent="Paper form, May 2026")
    assert report.new_subscribers == 2
    assert _name_of("jo@example.org") == "Jo Bcc: victim@example.com"
    assert _name_of("sam@example.org") == "Sam Bcc: victim@example.com"
    # A second import of the same people updates their names through the bulk update path.
    source.write_text("Email,Name\r\njo@example.org,Jo\x0bBloggs\r\n", encoding="utf-8")
    import_csv(source, news, session_scope, consent="Paper form, May 2026")
    assert _name_of("jo@example.org") == "Jo Bloggs"
