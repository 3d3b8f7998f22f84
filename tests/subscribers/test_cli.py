"""`newsletter lists` and `newsletter subscribers` as the team runs them: a real process, clear errors."""

from __future__ import annotations

import csv
import mailbox
import os
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path

import pytest

from newsletter.config import Settings
from newsletter.db import session_scope
from subscribers import links, store
from subscribers.models import SubscriptionStatus
from tests.smtp import SmtpServer


def run(*args: str, cwd: Path, env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("NEWSLETTER_")}
    environment.update(env)
    return subprocess.run([sys.executable, "-m", "newsletter.cli", *args], cwd=cwd, env=environment,
                          capture_output=True, text=True, timeout=180, input=stdin, check=False)


@pytest.fixture
def env(db: Settings, smtp: SmtpServer) -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k.startswith("NEWSLETTER_")}


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


def test_lists_and_subscribers_from_the_command_line(tmp_path: Path, env: dict[str, str], smtp: SmtpServer,
                                                     db: Settings) -> None:
    out = ok(run("lists", "create", "send-news", "--name", "SEND newsletter", "--description", "Monthly news.",
                 cwd=tmp_path, env=env))
    assert "Created list 'send-news'" in out and "double opt-in on" in out
    ok(run("lists", "create", "forum", "--name", "Forum", "--private", cwd=tmp_path, env=env))

    source = tmp_path / "families.csv"
    source.write_text("Email,Name,Postcode\r\njo@example.org,Jo,AB1\r\nbad-address,X,\r\nJO@example.org,Jo,\r\n",
                      encoding="utf-8")
    out = ok(run("subscribers", "import", str(source), "--list", "send-news", "--consent", "Paper form, May 2026",
                 cwd=tmp_path, env=env))
    assert "1 added to the list" in out and "1 had a problem" in out and "1 repeated an address" in out
    assert "line 3: The email address is not valid" in out
    assert (tmp_path / "families-problems.csv").exists()

    out = ok(run("subscribers", "add", "Sam@Example.org", "--list", "send-news", "--list", "forum", "--name", "Sam",
                 cwd=tmp_path, env=env))
    assert "sent a confirmation email" in out
    assert [m.recipients for m in smtp.messages] == [["sam@example.org"]]
    ok(run("subscribers", "add", "amina@example.org", "--list", "forum", "--consent", "Phone call, 4 May",
           cwd=tmp_path, env=env))

    out = ok(run("lists", "show", "send-news", cwd=tmp_path, env=env))
    assert "confirmed              1" in out and "unconfirmed            1" in out
    assert "Would receive an issue now: 1" in out
    out = ok(run("lists", "list", cwd=tmp_path, env=env))
    assert "send-news" in out and "private" in out

    out = ok(run("subscribers", "show", "JO@example.org", cwd=tmp_path, env=env))
    assert "jo@example.org" in out and "Postcode: AB1" in out and "Paper form, May 2026" in out

    exported = tmp_path / "export.csv"
    ok(run("subscribers", "export", "--list", "send-news", "--out", str(exported), cwd=tmp_path, env=env))
    with exported.open(encoding="utf-8-sig") as handle:
        assert [row["email"] for row in csv.DictReader(handle)] == ["jo@example.org"]
    everyone = ok(run("subscribers", "export", "--list", "send-news", "--status", "all", cwd=tmp_path, env=env))
    assert "sam@example.org" in everyone

    out = ok(run("subscribers", "remove", "jo@example.org", "--list", "send-news", cwd=tmp_path, env=env))
    assert "Unsubscribed jo@example.org from send-news" in out
    with session_scope() as session:
        jo = store.get_subscriber(session, "jo@example.org")
        assert [row.status for row, _ in store.subscriptions_of(session, jo.id)] == [SubscriptionStatus.UNSUBSCRIBED]
        mailto = links.mailto_unsubscribe_address(db, store.get_subscriber(session, "amina@example.org"), [])

    maildir = tmp_path / "Maildir"
    message = EmailMessage()
    message["To"] = mailto
    message["From"] = "amina@example.org"
    message.set_content("unsubscribe")
    mailbox.Maildir(maildir, create=True).add(message)
    out = ok(run("subscribers", "process-mailbox", str(maildir), cwd=tmp_path, env=env))
    assert "1 unsubscribed" in out

    refused = run("subscribers", "erase", "jo@example.org", cwd=tmp_path, env=env, stdin="n\n")
    assert refused.returncode != 0
    out = ok(run("subscribers", "erase", "jo@example.org", "--yes", cwd=tmp_path, env=env))
    assert "Erased jo@example.org" in out
    with session_scope() as session:
        assert store.find_subscriber(session, "jo@example.org") is None

    out = ok(run("subscribers", "purge-unconfirmed", "--days", "14", cwd=tmp_path, env=env))
    assert "Deleted 0 unconfirmed subscriptions" in out


@pytest.mark.parametrize("args, words", [
    (("subscribers", "import", "missing.csv", "--list", "send-news"), "no list with the slug 'send-news'"),
    (("subscribers", "show", "nobody@example.org"), "nobody@example.org is not on any list"),
    (("subscribers", "add", "not-an-address", "--list", "x"), "there is no list with the slug 'x'"),
    (("lists", "show", "nothing"), "`newsletter lists list` shows them"),
    (("lists", "create", "Bad Slug", "--name", "X"), "lower-case letters, digits and hyphens"),
    (("subscribers", "erase", "nobody@example.org", "--yes"), "is not on any list"),
    (("subscribers", "process-mailbox", "."), "is not a maildir"),
])
def test_errors_are_one_clear_line(tmp_path: Path, db: Settings, args: tuple[str, ...], words: str,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process (click's runner) to keep the suite quick; the scenario above runs real processes."""
    from click.testing import CliRunner

    from newsletter.cli import main

    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 1, result.output
    assert words in result.stderr and result.exception is None or isinstance(result.exception, SystemExit)
    assert words in result.stderr


def test_a_refused_import_says_why_and_imports_nothing(tmp_path: Path, env: dict[str, str]) -> None:
    ok(run("lists", "create", "send-news", "--name", "SEND newsletter", cwd=tmp_path, env=env))
    source = tmp_path / "latin1.csv"
    source.write_bytes("email,name\r\njo@example.org,Zoë\r\n".encode("cp1252"))
    result = run("subscribers", "import", str(source), "--list", "send-news", cwd=tmp_path, env=env)
    assert result.returncode == 1
    assert "is not valid utf-8 text: line 2" in result.stderr and "--encoding cp1252" in result.stderr
    with session_scope() as session:
        assert store.find_subscriber(session, "jo@example.org") is None
    out = ok(run("subscribers", "import", str(source), "--list", "send-news", "--encoding", "cp1252",
                 cwd=tmp_path, env=env))
    assert "No --consent given" in out and "1 added to the list" in out
    bad_map = run("subscribers", "import", str(source), "--list", "send-news", "--map", "nonsense", cwd=tmp_path, env=env)
    assert bad_map.returncode == 1 and "COLUMN=FIELD" in bad_map.stderr
