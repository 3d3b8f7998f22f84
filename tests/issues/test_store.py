"""Issues in the database (SQLite and PostgreSQL): import, export round trip, lifecycle, slugs."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from newsletter.config import Settings
from newsletter.db import session_scope
from newsletter.issues import service, store
from newsletter.issues.blocks import parse_issue
from newsletter.issues.models import IssueStatus
from newsletter.issues.yamlio import dump_issue, read_issue_file

from tests.conftest import EXAMPLE


def test_import_then_export_round_trips(db: Settings, tmp_path: Path) -> None:
    with session_scope() as session:
        issue, created = service.import_issue(session, EXAMPLE, db)
        assert created and issue.status is IssueStatus.DRAFT
    with session_scope() as session:
        exported = dump_issue(store.document(store.get_issue(session, "co-production-week-2026")), db.base_url)
    again = parse_issue(yaml.safe_load(exported))
    original = read_issue_file(EXAMPLE, db.media_dir)
    assert again.title == original.title and len(again.blocks) == len(original.blocks)
    for before, after in zip(original.blocks, again.blocks):
        dumped_before, dumped_after = before.model_dump(), after.model_dump()
        for field in ("src", "image"):
            if isinstance(dumped_before.get(field), str) and dumped_before[field].startswith("/media/"):
                assert dumped_after[field] == db.base_url + dumped_before[field]
                dumped_after[field] = dumped_before[field]
        assert dumped_before == dumped_after


def test_exported_file_imports_again_under_a_new_slug(db: Settings, tmp_path: Path) -> None:
    with session_scope() as session:
        service.import_issue(session, EXAMPLE, db)
    with session_scope() as session:
        doc = store.document(store.get_issue(session, "co-production-week-2026"))
    path = tmp_path / "copy.yaml"
    path.write_text(dump_issue(doc.model_copy(update={"slug": None, "title": "Next month"}), db.base_url))
    with session_scope() as session:
        issue, created = service.import_issue(session, path, db)
        assert created and issue.slug.startswith("next-month")


def test_same_slug_is_refused_unless_replacing_a_draft(db: Settings) -> None:
    with session_scope() as session:
        service.import_issue(session, EXAMPLE, db)
    with session_scope() as session, pytest.raises(store.SlugTaken, match="--replace"):
        service.import_issue(session, EXAMPLE, db)
    with session_scope() as session:
        issue, created = service.import_issue(session, EXAMPLE, db, replace=True)
        assert not created
    with session_scope() as session:
        assert len(store.list_issues(session)) == 1


def test_lifecycle_allows_only_the_documented_moves(db: Settings) -> None:
    with session_scope() as session:
        issue, _ = service.import_issue(session, EXAMPLE, db)
        with pytest.raises(store.InvalidTransition):
            store.move(issue, IssueStatus.SENT)
        for state in (IssueStatus.IN_REVIEW, IssueStatus.APPROVED, IssueStatus.SCHEDULED, IssueStatus.SENDING, IssueStatus.SENT):
            store.move(issue, state)
        assert issue.sent_at is not None
    with session_scope() as session:
        issue = store.get_issue(session, "co-production-week-2026")
        assert issue.status is IssueStatus.SENT
        with pytest.raises(store.InvalidTransition, match="only a draft"):
            store.update_issue(session, issue, store.document(issue))
        assert [i.slug for i in store.sent_issues(session)] == ["co-production-week-2026"]


def test_generated_slugs_are_unique_and_stable(db: Settings) -> None:
    doc = parse_issue({"title": "Summer news!", "subject": "S", "date": "2026-08-01"})
    with session_scope() as session:
        first = store.create_issue(session, doc)
        second = store.create_issue(session, doc)
        assert first.slug == "summer-news-2026-08-01"
        assert second.slug == "summer-news-2026-08-01-2"
        store.update_issue(session, first, doc.model_copy(update={"title": "Renamed"}))
        assert first.slug == "summer-news-2026-08-01"


def test_unknown_slug_says_how_to_find_one(db: Settings) -> None:
    with session_scope() as session, pytest.raises(store.IssueNotFound, match="newsletter issues list"):
        store.get_issue(session, "nope")


def test_timestamps_come_back_timezone_aware(db: Settings) -> None:
    with session_scope() as session:
        issue, _ = service.import_issue(session, EXAMPLE, db)
    with session_scope() as session:
        assert store.get_issue(session, issue.slug).created_at.tzinfo is not None


def test_a_notice_round_trips_through_import_and_export(db: Settings, tmp_path: Path) -> None:
    notice = {"type": "notice", "heading": "Apply for school transport by 31 May",
              "body": "If your child starts a new school in September, **apply by 31 May**.\n\n- Ask us for help\n"}
    source = {"title": "Autumn news", "subject": "Autumn news from the Local Offer", "slug": "autumn-news",
              "blocks": [{"type": "heading", "text": "School transport"}, notice]}
    path = tmp_path / "autumn.yaml"
    path.write_text(yaml.safe_dump(source, sort_keys=False))
    with session_scope() as session:
        service.import_issue(session, path, db)
    with session_scope() as session:
        exported = yaml.safe_load(dump_issue(store.document(store.get_issue(session, "autumn-news")), db.base_url))
    assert exported["blocks"][1] == {**notice, "body": notice["body"].strip()}
    again = tmp_path / "again.yaml"
    again.write_text(yaml.safe_dump({**exported, "slug": "autumn-news-again"}, sort_keys=False))
    with session_scope() as session:
        issue, created = service.import_issue(session, again, db)
        assert created and issue.blocks == store.get_issue(session, "autumn-news").blocks
