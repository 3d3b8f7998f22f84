"""Version history (SQLite and PostgreSQL): every save of an issue's content is a version, whatever path saved it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from newsletter.accounts import service as accounts
from newsletter.accounts.models import Role
from newsletter.config import Settings
from newsletter.db import session_scope
from newsletter.issues import drafts, editing, history, service, store, workflow
from newsletter.issues.models import IssueStatus

from tests.conftest import EXAMPLE

SLUG = "co-production-week-2026"


def _descriptions(slug: str = SLUG) -> list[tuple[str, str]]:
    with session_scope() as session:
        issue = store.get_issue(session, slug)
        return [(v.version.saved_by_name, v.version.description) for v in history.versions(session, issue.id)]


def _import() -> None:
    with session_scope() as session:
        service.import_issue(session, EXAMPLE, Settings())


def test_every_kind_of_save_is_a_version_with_its_words(db: Settings) -> None:
    _import()
    with session_scope() as session:
        user = accounts.create_user(session, "ed@example.org", "Ed Editor", "a long enough password", Role.EDITOR)
        user_id = user.id
    ed = history.Actor(user_id, "Ed Editor")
    with history.acting_as(ed), session_scope() as session:
        issue = store.get_issue(session, SLUG)
        keys = editing.keys_of(issue)
        block = dict(issue.blocks[3])
        fourth = block["type"]
        block.update({k: v + " (changed)" for k, v in block.items() if k in ("text", "markdown", "body", "heading")})
        editing.replace_block(issue, keys[3], block)
    with history.acting_as(ed), session_scope() as session:
        issue = store.get_issue(session, SLUG)
        editing.move_block(issue, editing.keys_of(issue)[1], 2)
    with history.acting_as(ed), session_scope() as session:
        issue = store.get_issue(session, SLUG)
        editing.add_block(issue, {"type": "divider"}, 0)
    with history.acting_as(ed), session_scope() as session:
        issue = store.get_issue(session, SLUG)
        editing.delete_block(issue, editing.keys_of(issue)[0])
    with history.acting_as(ed), session_scope() as session:
        issue = store.get_issue(session, SLUG)
        editing.update_details(issue, editing.Details(title="A new title", subject=issue.subject,
                                                      preheader=issue.preheader, language=issue.language,
                                                      date=issue.issue_date))
    found = _descriptions()
    count = len(yaml.safe_load(EXAMPLE.read_text())["blocks"])
    assert found[-1] == ("command line", f"Created the issue with {count} blocks")
    assert [d for _, d in reversed(found[:-1])] == [
        f"Edited block 4 ({fourth})",
        found[-3][1],
        "Added block 1 (divider)",
        "Deleted block 1 (divider)",
        "Changed the title",
    ]
    assert found[-3][1].startswith("Moved block 2 (") and found[-3][1].endswith(") down")
    assert {who for who, _ in found[:-1]} == {"Ed Editor"}


def test_a_save_that_changes_nothing_and_a_rolled_back_save_leave_no_version(db: Settings) -> None:
    _import()
    with session_scope() as session:
        issue = store.get_issue(session, SLUG)
        issue.blocks = [dict(b) for b in issue.blocks]  # the same content, written again
        issue.status = issue.status
    with pytest.raises(RuntimeError), session_scope() as session:
        issue = store.get_issue(session, SLUG)
        editing.delete_block(issue, editing.keys_of(issue)[0])
        session.flush()
        raise RuntimeError("the request failed after the change")
    assert len(_descriptions()) == 1


def test_yaml_import_with_replace_is_a_version_from_the_command_line(db: Settings, tmp_path: Path) -> None:
    _import()
    data = yaml.safe_load(EXAMPLE.read_text())
    data["title"] = "Co-production week, second draft"
    copy = tmp_path / "again.yaml"
    copy.write_text(yaml.safe_dump(data, allow_unicode=True))
    for media in (EXAMPLE.parent / "media").glob("*"):
        (tmp_path / "media").mkdir(exist_ok=True)
        (tmp_path / "media" / media.name).write_bytes(media.read_bytes())
    with session_scope() as session:
        service.import_issue(session, copy, Settings(), replace=True)
    assert _descriptions()[0] == ("command line", "Changed the title")


def test_restore_puts_back_an_old_version_as_a_new_version(db: Settings) -> None:
    _import()
    with session_scope() as session:
        issue = store.get_issue(session, SLUG)
        original = history.snapshot(issue)
        editing.delete_block(issue, editing.keys_of(issue)[0])
    with session_scope() as session:
        issue = store.get_issue(session, SLUG)
        first = history.versions(session, issue.id)[-1]
        assert history.restore(session, issue, first) is None
    with session_scope() as session:
        issue = store.get_issue(session, SLUG)
        assert history.snapshot(issue) == original  # the blocks and their keys, so comments follow them
        numbered = history.versions(session, issue.id)
        assert [n.number for n in numbered] == [3, 2, 1]
        assert numbered[0].version.description.startswith("Restored version 1")


def test_restoring_an_approved_issue_sends_it_back_for_approval(db: Settings) -> None:
    _import()
    with session_scope() as session:
        issue = store.get_issue(session, SLUG)
        editing.delete_block(issue, editing.keys_of(issue)[0])
    with session_scope() as session:
        issue = store.get_issue(session, SLUG)
        workflow.submit(issue)
        store.move(issue, IssueStatus.APPROVED)
    with session_scope() as session:
        issue = store.get_issue(session, SLUG)
        notice = history.restore(session, issue, history.versions(session, issue.id)[-1])
        assert notice and "approving again" in notice
    with session_scope() as session:
        assert store.get_issue(session, SLUG).status is IssueStatus.IN_REVIEW


def test_a_saved_block_drops_the_savers_own_draft_only(db: Settings) -> None:
    _import()
    with session_scope() as session:
        ed = accounts.create_user(session, "ed@example.org", "Ed Editor", "a long enough password", Role.EDITOR)
        ann = accounts.create_user(session, "ann@example.org", "Ann", "a long enough password", Role.APPROVER)
        ids = ed.id, ann.id
        issue = store.get_issue(session, SLUG)
        key = editing.keys_of(issue)[0]
        for user_id in ids:
            drafts.keep(session, user_id, issue.id, key, {"text": "typing"})
            drafts.keep(session, user_id, issue.id, "new-divider", {})
    with history.acting_as(history.Actor(ids[0], "Ed Editor")), session_scope() as session:
        issue = store.get_issue(session, SLUG)
        block = dict(issue.blocks[0])
        block["markdown"] = "Saved words"
        editing.replace_block(issue, key, block)
        editing.add_block(issue, {"type": "divider"})
    with session_scope() as session:
        issue = store.get_issue(session, SLUG)
        assert drafts.find(session, ids[0], issue.id, key) is None
        assert drafts.find(session, ids[0], issue.id, "new-divider") is None
        assert drafts.find(session, ids[1], issue.id, key).fields == {"text": "typing"}


def test_a_draft_is_kept_once_per_person_and_block_and_refused_when_too_large(db: Settings) -> None:
    _import()
    with session_scope() as session:
        ed = accounts.create_user(session, "ed@example.org", "Ed Editor", "a long enough password", Role.EDITOR)
        issue = store.get_issue(session, SLUG)
        drafts.keep(session, ed.id, issue.id, "abc", {"text": "one"})
        drafts.keep(session, ed.id, issue.id, "abc", {"text": "two"})
        assert drafts.find(session, ed.id, issue.id, "abc").fields == {"text": "two"}
        with pytest.raises(drafts.DraftRefused):
            drafts.keep(session, ed.id, issue.id, "abc", {"text": "x" * 300_000})
        with pytest.raises(drafts.DraftRefused):
            drafts.keep(session, ed.id, issue.id, "../x", {})
