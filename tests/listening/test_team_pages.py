"""What families said, on the team's side: the issue page shows counts, results and comments (escaped, no
names); marking read and deleting need a signed-in team member and the form's CSRF token."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from newsletter.config import Settings
from newsletter.db import session_scope
from newsletter.listening import store
from newsletter.listening.models import CommentSource

from tests.listening.conftest import SLUG, Links, path
from tests.web.conftest import Team, TeamClient, as_user, team  # noqa: F401  (fixtures)


@pytest.fixture
def comment_id(reader: FlaskClient, links: Links, issue_id: int) -> int:
    reader.post(path(links.not_useful), data={"answer": "not_useful",
                                              "comment": "<script>alert(1)</script> & <b>bold</b>\nsecond line"})
    reader.post(path(links.poll[2]), data={"choice": "other", "other": "Saturdays"})
    with session_scope() as session:
        return next(c.id for c in store.comments(session, issue_id) if c.source is CommentSource.FEEDBACK)


def test_the_issue_page_shows_counts_results_and_comments_as_text(as_user: Callable[[str], TeamClient], team: Team,
                                                                  comment_id: int) -> None:
    page = as_user(team.editor).get(f"/team/issues/{SLUG}").get_data(as_text=True)
    assert 'id="listening-title"' in page and "What families said (2 new)" in page
    assert "Useful: <strong>0</strong>. Not useful: <strong>1</strong>." in page
    assert "Poll: Which day suits you for coffee mornings?" in page
    assert '<th scope="row">Something else</th><td>1</td><td>100%</td>' in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;\nsecond line" in page
    assert "<script>alert(1)" not in page and "<b>bold</b>" not in page
    assert "“Something else” in the poll “Which day suits you for coffee mornings?”" in page
    assert "Saturdays" in page


def test_marking_read_and_deleting(as_user: Callable[[str], TeamClient], team: Team, comment_id: int,
                                   issue_id: int) -> None:
    editor = as_user(team.editor)
    response = editor.post(f"/team/issues/{SLUG}/reader-comments/{comment_id}/read")
    assert response.status_code == 302 and response.headers["Location"].endswith("#listening-title")
    with session_scope() as session:
        assert store.unread_count(session, issue_id) == 1
    assert "What families said (1 new)" in editor.get(f"/team/issues/{SLUG}").get_data(as_text=True)
    assert editor.post(f"/team/issues/{SLUG}/reader-comments/{comment_id}/delete").status_code == 302
    with session_scope() as session:
        assert [c.body for c in store.comments(session, issue_id)] == ["Saturdays"]
        assert store.feedback_counts(session, issue_id) == {"useful": 0, "not_useful": 1, "comments": 0}
    assert editor.post(f"/team/issues/{SLUG}/reader-comments/{comment_id}/read").status_code == 404
    assert editor.post(f"/team/issues/other-slug/reader-comments/{comment_id}/read").status_code == 404


def test_team_actions_need_sign_in_and_the_csrf_token(app: Flask, as_user: Callable[[str], TeamClient], team: Team,
                                                      comment_id: int, issue_id: int) -> None:
    anonymous = TeamClient(app.test_client())
    for action in ("read", "delete"):
        response = anonymous.post(f"/team/issues/{SLUG}/reader-comments/{comment_id}/{action}")
        assert response.status_code == 401
        signed_in = as_user(team.editor)
        response = signed_in.post(f"/team/issues/{SLUG}/reader-comments/{comment_id}/{action}", csrf=False)
        assert response.status_code == 400
    with session_scope() as session:
        assert len(store.comments(session, issue_id)) == 2 and store.unread_count(session, issue_id) == 2


def test_a_draft_shows_no_listening_section(as_user: Callable[[str], TeamClient], team: Team, db: Settings) -> None:
    from tests.web.test_composer import _new_issue

    editor = as_user(team.editor)
    slug = _new_issue(editor)
    page = editor.get(f"/team/issues/{slug}").get_data(as_text=True)
    assert 'id="listening-title"' not in page and "What families said" not in page
    # The feedback question is a setting of the issue: on for a new one, off once unticked.
    assert 'id="field-feedback" name="feedback" type="checkbox" value="1" checked' in page
    editor.post(f"/team/issues/{slug}/details", {"title": "December news", "subject": "December news",
                                                  "language": "en-GB", "feedback_shown": "1"})
    from newsletter.issues import store as issues
    with session_scope() as session:
        assert issues.get_issue(session, slug).feedback is False
    assert 'value="1" checked aria-describedby="hint-feedback"' not in editor.get(f"/team/issues/{slug}").get_data(
        as_text=True)
