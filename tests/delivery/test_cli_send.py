"""`newsletter send --wait` on the embedded default, as a new user runs it: no Redis, mail in the outbox."""

from __future__ import annotations

import email
import email.policy
import os
import subprocess
import sys
from pathlib import Path

from newsletter.config import Settings

from tests.conftest import EXAMPLE


def run(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "newsletter.cli", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


def test_send_wait_on_the_embedded_default(settings: Settings, tmp_path: Path) -> None:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("NEWSLETTER_")},
           **{k: v for k, v in os.environ.items() if k.startswith("NEWSLETTER_")}}
    steps = [
        ("issues", "import", str(EXAMPLE)),
        ("lists", "create", "send-news", "--name", "SEND newsletter"),
        *[("subscribers", "add", f"parent{n}@example.org", "--list", "send-news", "--name", f"Parent {n}",
           "--consent", "Signed up on the paper form at the SEND fair") for n in range(3)],
    ]
    for step in steps:
        result = run(*step, cwd=tmp_path, env=env)
        assert result.returncode == 0, (step, result.stdout, result.stderr)
    refused = run("send", "co-production-week-2026", "--list", "send-news", cwd=tmp_path, env=env)
    assert refused.returncode == 1 and "must be approved" in refused.stderr
    assert run("issues", "approve", "co-production-week-2026", cwd=tmp_path, env=env).returncode == 0
    unknown = run("send", "co-production-week-2026", "--list", "nope", cwd=tmp_path, env=env)
    assert unknown.returncode == 1 and "no list called nope" in unknown.stderr
    sent = run("send", "co-production-week-2026", "--list", "send-news", "--wait", cwd=tmp_path, env=env)
    assert sent.returncode == 0, sent.stderr
    assert "to 3 recipients" in sent.stdout and "finished" in sent.stdout and "sent 3" in sent.stdout
    files = sorted(settings.outbox_dir.glob("*.eml"))
    assert len(files) == 3
    recipients = set()
    for path in files:
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert str(message["Return-Path"]).startswith("<bounces+")
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        recipients.add(message["To"].addresses[0].addr_spec)
        assert "Hello Parent" in message.get_body(("plain",)).get_content()
    assert recipients == {f"parent{n}@example.org" for n in range(3)}
    shown = run("campaigns", "show", "1", cwd=tmp_path, env=env)
    assert "finished" in shown.stdout and "sent 3" in shown.stdout
    listed = run("issues", "list", cwd=tmp_path, env=env)
    assert "sent" in listed.stdout


def test_send_at_reads_the_teams_clock(db: Settings, tmp_path: Path) -> None:
    from datetime import datetime, timezone

    from click.testing import CliRunner
    from sqlalchemy import select

    from newsletter.cli import main
    from newsletter.db import session_scope
    from newsletter.delivery.models import Campaign
    from tests.delivery.conftest import approved_issue, make_list, make_readers

    approved_issue(db)
    make_readers(make_list(), 2)
    result = CliRunner().invoke(main, ["send", "co-production-week-2026", "--list", "send-news",
                                       "--at", "2030-07-02T09:00"])
    assert result.exit_code == 0, result.output
    assert "at 2030-07-02 09:00 BST" in result.output
    with session_scope() as session:
        assert session.scalar(select(Campaign.send_at)) == datetime(2030, 7, 2, 8, 0, tzinfo=timezone.utc)
    skipped = CliRunner().invoke(main, ["send", "co-production-week-2026", "--list", "send-news",
                                        "--at", "2031-03-30T01:30"])
    assert skipped.exit_code != 0 and "clocks go forward" in skipped.output
