"""Answers and comments in the database (both backends): one answer per browser whatever the timing,
no reader identity anywhere, comments gone after the retention period, and the schema as migrated."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from flask.testing import FlaskClient
from sqlalchemy import create_engine, func, inspect, select, text

from newsletter.config import Settings
from newsletter.db import Base, engine_for, session_scope, utcnow
from newsletter.listening import store
from newsletter.listening.models import CommentSource, FeedbackAnswer, PollAnswer, ReaderComment, Usefulness
from newsletter.models import load_all

from tests.listening.conftest import Links, path
from tests.subscribers.races import AllReadNoneWritten, at_once

TABLES = ("feedback_answers", "poll_answers", "reader_comments")


def test_migration_0013_makes_exactly_these_tables(db: Settings) -> None:
    load_all()
    with engine_for(db.database_url).connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert [entry for entry in diff if any(name in repr(entry) for name in (*TABLES, "'feedback'"))] == []


def test_no_table_here_can_hold_who_answered(db: Settings) -> None:
    """No column names a subscriber, an address, a delivery or a network address, and no key points at one."""
    inspector = inspect(engine_for(db.database_url))
    for table in TABLES:
        columns = {column["name"] for column in inspector.get_columns(table)}
        assert not {name for name in columns
                    if any(word in name for word in ("subscriber", "email", "address", "delivery", "ip", "name"))}, table
        assert {key["referred_table"] for key in inspector.get_foreign_keys(table)} == {"issues"}, table


def test_nothing_stored_says_who_answered(reader: FlaskClient, links: Links, issue_id: int) -> None:
    """After answers and comments from a known address, the stored values hold neither it nor the cookie."""
    address = "203.0.113.77"
    reader.post(path(links.useful), data={"answer": "useful", "comment": "Thanks"},
                environ_base={"REMOTE_ADDR": address})
    reader.post(path(links.poll[2]), data={"choice": "other", "other": "Weekends"}, environ_base={"REMOTE_ADDR": address})
    cookie = reader.get_cookie("newsletter_answers", path="/answer/")
    assert cookie is not None and cookie.http_only and cookie.path == "/answer/"
    with session_scope() as session:
        stored = [repr(tuple(row)) for model in (FeedbackAnswer, PollAnswer, ReaderComment)
                  for row in session.execute(select(model.__table__))]
    assert len(stored) == 4
    assert not [row for row in stored if address in row or cookie.value in row]
    assert store.browser_hash(cookie.value) in stored[0]


def test_two_answers_from_one_browser_at_once_leave_one_answer(reader: FlaskClient, links: Links,
                                                               issue_id: int) -> None:
    """Both requests read before either writes: the second must change the first's row, not add one."""
    reader.get(path(links.useful))
    reader.post(path(links.useful), data={"answer": "useful"})  # the browser now has its cookie
    value = reader.get_cookie("newsletter_answers", path="/answer/").value  # type: ignore[union-attr]
    second = reader.application.test_client()
    second.set_cookie("newsletter_answers", value, path="/answer/")
    with AllReadNoneWritten(2) as gate:
        answers = at_once(lambda: reader.post(path(links.useful), data={"answer": "not_useful"}).status_code,
                          lambda: second.post(path(links.useful), data={"answer": "not_useful"}).status_code,
                          gate=gate)
    assert gate.met == 2 and answers == [303, 303]
    with session_scope() as session:
        assert store.feedback_counts(session, issue_id) == {"useful": 0, "not_useful": 1, "comments": 0}
        assert session.scalar(select(func.count()).select_from(FeedbackAnswer)) == 1


def test_a_changed_answer_waits_for_the_first_and_replaces_it_on_postgresql(db: Settings, issue_id: int) -> None:
    """The first answer's transaction is still open when the second arrives: the second waits on the unique
    key, then changes that row. (Reading first and inserting would make a second row or fail.)"""
    if not db.database_url.startswith("postgresql"):
        pytest.skip("SQLite has one writer at a time: the second cannot start before the first commits")
    browser = store.browser_hash("one-browser")
    finished: list[str] = []

    def second() -> None:
        with session_scope() as session:
            store.record_feedback(session, issue_id, browser, Usefulness.NOT_USEFUL)
        finished.append("second")

    watcher = create_engine(db.database_url.split("?", 1)[0])
    try:
        with session_scope() as first:
            store.record_feedback(first, issue_id, browser, Usefulness.USEFUL)
            thread = threading.Thread(target=second)
            thread.start()
            deadline = time.monotonic() + 10
            with watcher.connect() as connection:
                while time.monotonic() < deadline:
                    waiting = connection.execute(text(
                        "select count(*) from pg_stat_activity where wait_event_type = 'Lock' "
                        "and query ilike '%feedback_answers%'")).scalar()
                    if waiting:
                        break
                    time.sleep(0.02)
            assert waiting, "the second answer should be waiting for the first"
            assert not finished
        thread.join(30)
        assert finished == ["second"]
    finally:
        watcher.dispose()
    with session_scope() as session:
        assert store.feedback_counts(session, issue_id) == {"useful": 0, "not_useful": 1, "comments": 0}
        assert store.current_feedback(session, issue_id, browser) is Usefulness.NOT_USEFUL


def test_comments_are_deleted_after_the_retention_period(db: Settings, issue_id: int) -> None:
    now = utcnow()
    with session_scope() as session:
        for age in (400, 366, 364, 1):
            comment = store.add_comment(session, issue_id, CommentSource.FEEDBACK, f"{age} days old", answer="useful")
            comment.created_at = now - timedelta(days=age)
        store.record_feedback(session, issue_id, store.browser_hash("b"), Usefulness.USEFUL)
    with session_scope() as session:
        assert store.purge_old_comments(session, now) == 2
    with session_scope() as session:
        assert sorted(c.body for c in store.comments(session, issue_id)) == ["1 days old", "364 days old"]
        assert store.feedback_counts(session, issue_id) == {"useful": 1, "not_useful": 0, "comments": 2}, \
            "answers stay; only the words go"
        assert store.purge_old_comments(session, now, retention_days=30) == 1
        assert store.purge_old_comments(session, now, retention_days=30) == 0


def test_the_retention_period_is_a_setting(db: Settings, issue_id: int, monkeypatch: pytest.MonkeyPatch) -> None:
    from newsletter.config import reset_settings

    monkeypatch.setenv("NEWSLETTER_COMMENT_RETENTION_DAYS", "7")
    reset_settings()
    now = utcnow()
    with session_scope() as session:
        store.add_comment(session, issue_id, CommentSource.POLL, "old", poll_key="k").created_at = now - timedelta(days=8)
        store.add_comment(session, issue_id, CommentSource.POLL, "new", poll_key="k")
    with session_scope() as session:
        assert store.purge_old_comments(session, now) == 1


def test_the_migration_keeps_every_issue_and_its_history_and_goes_back(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """0013 adds the feedback setting (on) to issues already there without losing anything that hangs off them."""
    from newsletter.migrate import downgrade, upgrade

    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0012")
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(
            "insert into issues (id, slug, title, subject, preheader, language, blocks, block_keys, status, notes,"
            " created_at, updated_at) values (1, 'june', 'June news', 'News', '', 'en-GB', '[]', '[]', 'sent', '',"
            " '2026-06-01 09:00:00', '2026-06-02 09:00:00')"))
        connection.execute(text(
            "insert into issue_versions (issue_id, saved_at, saved_by_name, description, content, fingerprint)"
            " values (1, '2026-06-01 09:00:00', 'Ann', 'Created', '{}', 'abc')"))
        versions = connection.execute(text("select count(*) from issue_versions")).scalar()
        assert versions == 1
    upgrade(url, "0013")
    with engine.connect() as connection:
        assert connection.execute(text("select feedback from issues where id = 1")).scalar() in (1, True)
        assert connection.execute(text("select count(*) from issue_versions")).scalar() == versions
    downgrade(url, "0012")
    with engine.connect() as connection:
        names = {r[0] for r in connection.execute(text("select name from sqlite_master where type='table'"))}
        assert not set(TABLES) & names
        assert connection.execute(text("select count(*) from issues")).scalar() == 1
    engine.dispose()
