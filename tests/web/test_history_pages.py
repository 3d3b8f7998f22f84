"""The history page and autosaved drafts in the composer (SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from collections.abc import Callable

from sqlalchemy import select

from newsletter.accounts.models import User
from newsletter.db import session_scope
from newsletter.issues import editing, history, store
from tests.web.conftest import Team, TeamClient

SLUG = "spring-news"


def _issue(author_email: str) -> list[str]:
    with session_scope() as session:
        author = session.scalars(select(User).where(User.email == author_email)).one()
        issue = editing.create_draft(session, editing.Details(title="Spring news", subject="Spring news"), author.id)
        issue.slug = SLUG
    with history.acting_as(history.Actor(None, "command line")), session_scope() as session:
        issue = store.get_issue(session, SLUG)
        editing.add_block(issue, {"type": "heading", "text": "Short breaks", "level": 2})
        editing.add_block(issue, {"type": "text", "markdown": "Families told us what works."})
        return editing.keys_of(issue)


def test_saves_in_the_composer_are_listed_with_who_and_what(as_user: Callable[[str], TeamClient], team: Team) -> None:
    editor = as_user(team.editor)
    keys = _issue(team.editor)
    saved = editor.post(f"/team/issues/{SLUG}/blocks/{keys[1]}", {"markdown": "Families told us what really works."})
    assert saved.status_code in (200, 302), saved.get_data(as_text=True)
    editor.post(f"/team/issues/{SLUG}/blocks/{keys[0]}/move", {"direction": "down"})
    page = editor.get(f"/team/issues/{SLUG}/history").get_data(as_text=True)
    items = re.findall(r'<p class="history-what">([^<]+)</p>\s*<p class="muted">Saved by ([^,]+),', page)
    assert items[:2] == [("Moved block 1 (heading) down", "Ed Editor"), ("Edited block 2 (text)", "Ed Editor")]
    assert items[-1][1] == "command line"
    assert f'href="/team/issues/{SLUG}/history"' in editor.get(f"/team/issues/{SLUG}").get_data(as_text=True)


def test_a_version_shows_what_changed_and_restores_as_a_new_version(as_user: Callable[[str], TeamClient],
                                                                   team: Team) -> None:
    editor = as_user(team.editor)
    keys = _issue(team.editor)
    editor.post(f"/team/issues/{SLUG}/blocks/{keys[1]}", {"markdown": "A new sentence."})
    with session_scope() as session:
        issue = store.get_issue(session, SLUG)
        numbered = history.versions(session, issue.id)
        latest, before = numbered[0].version.id, numbered[1].version.id
    page = editor.get(f"/team/issues/{SLUG}/history/{latest}").get_data(as_text=True)
    assert "Edited block 2 (text)" in page
    assert re.search(r'class="diff-removed">.*Removed: </span>Families told us what works\.', page)
    assert re.search(r'class="diff-added">.*Added: </span>A new sentence\.', page)
    assert "Restore this version" not in page, "the current version has nothing to restore"
    frame = editor.get(f"/team/issues/{SLUG}/history/{latest}/web")
    assert frame.status_code == 200 and "A new sentence." in frame.get_data(as_text=True)
    assert "sandbox" in frame.headers["Content-Security-Policy"]
    older = editor.get(f"/team/issues/{SLUG}/history/{before}").get_data(as_text=True)
    assert "Restore this version" in older
    assert editor.post(f"/team/issues/{SLUG}/history/{before}/restore", csrf=False).status_code == 400
    restored = editor.post(f"/team/issues/{SLUG}/history/{before}/restore")
    assert restored.status_code == 302
    with session_scope() as session:
        issue = store.get_issue(session, SLUG)
        assert issue.blocks[1]["markdown"] == "Families told us what works."
        top = history.versions(session, issue.id)[0].version
        assert top.description.startswith("Restored version") and top.saved_by_name == "Ed Editor"


def test_a_sent_issue_cannot_be_restored(as_user: Callable[[str], TeamClient], team: Team) -> None:
    editor = as_user(team.editor)
    _issue(team.editor)
    with session_scope() as session:
        issue = store.get_issue(session, SLUG)
        first = history.versions(session, issue.id)[-1].version.id
        issue.status = store.IssueStatus.CANCELLED
    refused = editor.post(f"/team/issues/{SLUG}/history/{first}/restore")
    assert refused.status_code == 302
    assert "can no longer be changed" in editor.get(refused.headers["Location"]).get_data(as_text=True)
    with session_scope() as session:
        assert len(store.get_issue(session, SLUG).blocks) == 2


def test_a_draft_is_kept_per_person_offered_back_and_gone_once_the_block_is_saved(
        as_user: Callable[[str], TeamClient], team: Team) -> None:
    editor, ann = as_user(team.editor), as_user(team.approver)
    keys = _issue(team.editor)
    url = f"/team/issues/{SLUG}/drafts/{keys[1]}"
    kept = editor.post(url, {"markdown": "Half a thought", "csrf_token_ignored": ""},
                       headers={"X-Requested-With": "fetch"})
    assert kept.status_code == 200 and re.match(r"\d\d:\d\d \w+", kept.get_json()["saved_at"])
    assert editor.get(url).get_json()["draft"]["fields"]["markdown"] == "Half a thought"
    assert ann.get(url).get_json() == {"draft": None}, "a draft is its writer's own"
    with session_scope() as session:
        assert store.get_issue(session, SLUG).blocks[1]["markdown"] == "Families told us what works."
    assert editor.post(f"/team/issues/{SLUG}/drafts/not-a-block", {"markdown": "x"}).status_code == 404
    assert editor.post(url, {"markdown": "x"}, csrf=False).status_code == 400
    editor.post(f"/team/issues/{SLUG}/blocks/{keys[1]}", {"markdown": "The whole thought."})
    assert editor.get(url).get_json() == {"draft": None}
    editor.post(url, {"markdown": "Again"})
    editor.post(f"{url}/discard", headers={"X-Requested-With": "fetch"})
    assert editor.get(url).get_json() == {"draft": None}
    new = f"/team/issues/{SLUG}/drafts/new-quote"
    editor.post(new, {"text": "A quote being typed"})
    assert editor.get(new).get_json()["draft"]["fields"] == {"text": "A quote being typed"}


def test_the_team_layout_loads_autosave(as_user: Callable[[str], TeamClient], team: Team) -> None:
    editor = as_user(team.editor)
    keys = _issue(team.editor)
    page = editor.get(f"/team/issues/{SLUG}/blocks/{keys[1]}").get_data(as_text=True)
    assert "/static/autosave.js" in page
