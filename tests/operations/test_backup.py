"""Backups of the embedded SQLite database, taken from a real `newsletter serve` while it sends.

The service is a subprocess with its own folder; it is sending a campaign (writing delivery rows and
outbox files) while `newsletter db backup` runs. The backup is restored into a new folder, and every
issue, list, subscriber and consent line that existed before the backup began is found there.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from newsletter.config import Settings

from tests.conftest import EXAMPLE, TEST_THEME
from tests.smtp import free_port

SLUG = "co-production-week-2026"
READERS = 400


def _env(folder: Path, port: int = 8000) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSLETTER_")}
    env.update({
        "NEWSLETTER_DATABASE_URL": f"sqlite:///{folder / 'newsletter.db'}",
        "NEWSLETTER_MEDIA_DIR": str(folder / "media"), "NEWSLETTER_OUTBOX_DIR": str(folder / "outbox"),
        "NEWSLETTER_BASE_URL": f"http://127.0.0.1:{port}", "NEWSLETTER_SECRET_KEY": "test-secret-key-0123456789",
        "NEWSLETTER_FROM_ADDRESS": "Local Offer Team <news@example.org>", "NEWSLETTER_THEME_FILE": str(TEST_THEME),
        "NEWSLETTER_SEND_RATE": "80", "NEWSLETTER_SEND_BURST": "5",
    })
    folder.mkdir(parents=True, exist_ok=True)
    return env


def _run(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "newsletter.cli", *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=120)


def _ok(*args: str, env: dict[str, str], cwd: Path) -> str:
    result = _run(*args, env=env, cwd=cwd)
    assert result.returncode == 0, (args, result.stdout, result.stderr)
    return result.stdout


def _contents(database: Path) -> dict[str, set]:
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        return {
            "issues": set(connection.execute("SELECT slug, title FROM issues")),
            "lists": set(connection.execute("SELECT slug, name FROM lists")),
            "subscribers": set(connection.execute("SELECT email, name FROM subscribers")),
            "consent": set(connection.execute("SELECT id, subscriber_id, action, source, wording FROM consent_log")),
            "deliveries": set(connection.execute("SELECT id FROM deliveries")),
        }
    finally:
        connection.close()


def _sent(folder: Path) -> int:
    return len(list((folder / "outbox").glob("*.eml"))) if (folder / "outbox").is_dir() else 0


def test_a_backup_of_a_running_service_restores_everything(settings: Settings, tmp_path: Path) -> None:
    live, restored = tmp_path / "live", tmp_path / "restored"
    port = free_port()
    env = _env(live, port)
    csv = tmp_path / "families.csv"
    csv.write_text("email,name\n" + "".join(f"parent{n}@example.org,Parent {n}\n" for n in range(READERS)))
    for step in (("issues", "import", str(EXAMPLE)), ("lists", "create", "send-news", "--name", "SEND newsletter"),
                 ("lists", "create", "short-breaks", "--name", "Short breaks"),
                 ("subscribers", "import", str(csv), "--list", "send-news", "--consent", "Paper form, SEND fair 2026"),
                 ("subscribers", "add", "late@example.org", "--list", "short-breaks", "--consent", "Phone call"),
                 ("issues", "approve", SLUG), ("send", SLUG, "--list", "send-news")):
        _ok(*step, env=env, cwd=live)

    server = subprocess.Popen([sys.executable, "-m", "newsletter.cli", "serve", "--port", str(port)], env=env,
                              cwd=live, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2).close()
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, "newsletter serve did not answer"
                time.sleep(0.2)
        while _sent(live) < 20:  # the service is sending: writing rows and files as the backup runs
            assert time.monotonic() < deadline, "the service sent nothing"
            time.sleep(0.1)
        before = _contents(live / "newsletter.db")
        sent_before = _sent(live)
        backup_file = tmp_path / "backup.db"
        assert "Backed up" in _ok("db", "backup", str(backup_file), env=env, cwd=live)
        refused = _run("db", "restore", str(backup_file), env=env, cwd=live)
        assert refused.returncode == 1 and "in use" in refused.stderr and "--force" in refused.stderr
        again = _run("db", "backup", str(backup_file), env=env, cwd=live)
        assert again.returncode == 1 and "already exists" in again.stderr
        time.sleep(0.5)
        assert server.poll() is None and _sent(live) > sent_before, "the service kept sending during the backup"
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    assert "set-up code" in output and "/team/set-up" in output, "serve prints the first-run code in its log"

    shown = _ok("db", "restore", str(backup_file), env=_env(restored), cwd=restored)
    assert "Restored" in shown
    after = _contents(restored / "newsletter.db")
    for kind in ("issues", "lists", "subscribers", "consent", "deliveries"):
        missing = before[kind] - after[kind]
        assert not missing, f"{len(missing)} {kind} missing from the restored copy"
    assert len(after["subscribers"]) == READERS + 1 and len(after["deliveries"]) == READERS
    check = sqlite3.connect(restored / "newsletter.db")
    assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert check.execute("PRAGMA foreign_key_check").fetchall() == []
    check.close()
    listed = _ok("subscribers", "show", "parent7@example.org", env=_env(restored), cwd=restored)
    assert "Paper form, SEND fair 2026" in listed


def test_an_older_backup_is_brought_up_to_date(settings: Settings, tmp_path: Path) -> None:
    from newsletter.migrate import current, downgrade, upgrade

    old = tmp_path / "old.db"
    upgrade(f"sqlite:///{old}")
    downgrade(f"sqlite:///{old}", "0014")
    folder = tmp_path / "new"
    shown = _ok("db", "restore", str(old), env=_env(folder), cwd=folder)
    assert "upgraded from 0014" in shown
    head = tmp_path / "head.db"
    upgrade(f"sqlite:///{head}")
    assert current(f"sqlite:///{folder / 'newsletter.db'}") == current(f"sqlite:///{head}")


def test_what_is_not_a_backup_of_this_service_is_refused(settings: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "target"
    env = _env(folder)
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE notes (x)").connection.commit()
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    for path, words in ((other, "not one of this service"), (text, "not a SQLite database"),
                        (tmp_path / "missing.db", "no file")):
        result = _run("db", "restore", str(path), env=env, cwd=folder)
        assert result.returncode == 1 and words in result.stderr, result.stderr
        assert "Traceback" not in result.stderr
    assert not (folder / "newsletter.db").exists()


def test_a_stopped_database_is_replaced_and_kept_aside(settings: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "site"
    env = _env(folder)
    _ok("lists", "create", "send-news", "--name", "SEND newsletter", env=env, cwd=folder)
    _ok("db", "backup", str(tmp_path / "one-list.db"), env=env, cwd=folder)
    _ok("lists", "create", "short-breaks", "--name", "Short breaks", env=env, cwd=folder)
    shown = _ok("db", "restore", str(tmp_path / "one-list.db"), env=env, cwd=folder)
    assert "kept at" in shown
    assert {slug for slug, _ in _contents(folder / "newsletter.db")["lists"]} == {"send-news"}
    kept = next(folder.glob("newsletter.db.before-restore-*"))
    assert {slug for slug, _ in _contents(kept)["lists"]} == {"send-news", "short-breaks"}


def test_postgresql_is_pointed_at_pg_dump(db: Settings, tmp_path: Path) -> None:
    if not db.database_url.startswith("postgresql"):
        pytest.skip("the SQLite half is the rest of this file")
    env = {**os.environ, "NEWSLETTER_DATABASE_URL": db.database_url}
    for args in (("db", "backup", str(tmp_path / "x.db")), ("db", "restore", str(tmp_path / "x.db"))):
        result = _run(*args, env=env, cwd=tmp_path)
        assert result.returncode == 1 and "pg_dump" in result.stderr and "pg_restore" in result.stderr


def test_force_replaces_a_database_that_is_open(settings: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "site"
    env = _env(folder)
    _ok("lists", "create", "send-news", "--name", "SEND newsletter", env=env, cwd=folder)
    _ok("db", "backup", str(tmp_path / "one-list.db"), env=env, cwd=folder)
    _ok("lists", "create", "short-breaks", "--name", "Short breaks", env=env, cwd=folder)
    holder = sqlite3.connect(folder / "newsletter.db")  # another process's open connection, as a running service has
    holder.execute("PRAGMA journal_mode=WAL").fetchone()
    holder.execute("SELECT count(*) FROM lists").fetchone()
    try:
        refused = _run("db", "restore", str(tmp_path / "one-list.db"), env=env, cwd=folder)
        assert refused.returncode == 1 and "in use" in refused.stderr
        _ok("db", "restore", str(tmp_path / "one-list.db"), "--force", env=env, cwd=folder)
        assert {slug for (slug,) in holder.execute("SELECT slug FROM lists")} == {"send-news"}, \
            "the open connection sees the restored database"
    finally:
        holder.close()
