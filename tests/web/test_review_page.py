"""The review page never loses a parent's words, the team can copy active links again, submitting warns about
unresolved comments, and the team is emailed when an issue waits for them (SQLite and PostgreSQL).

Every kind of comment a reviewer can post is either stored (and the page says so, beside it and at the
top) or refused with a visible error at the top of the page and the typed text kept in its box.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

import pytest
from sqlalchemy import select

from newsletter.accounts.models import User
from newsletter.config import Settings
from newsletter.db import session_scope
from newsletter.issues import approval_mail, editing, store
from newsletter.review import service
from newsletter.review.models import Comment, ReviewLink
from newsletter.web import create_app
from tests.smtp import SmtpServer
from tests.web.conftest import Team, TeamClient

SLUG = "winter-news"


def _issue(author_email: str) -> list[str]:
    """A draft written by `author_email` with three blocks; returns the block keys."""
    with session_scope() as session:
        author = session.scalars(select(User).where(User.email == author_email)).one()
        issue = editing.create_draft(session, editing.Details(title="Winter news", subject="Winter news"), author.id)
        issue.slug = SLUG
        editing.add_block(issue, {"type": "heading", "text": "Short breaks", "level": 2})
        editing.add_block(issue, {"type": "text", "markdown": "Families told us what works."})
        editing.add_block(issue, {"type": "quote", "text": "We were listened to."})
        return editing.keys_of(issue)


def _link(editor: TeamClient) -> str:
    shared = editor.post(f"/team/issues/{SLUG}/review-links", {"label": "Parent Carer Forum"})
    page = editor.get(shared.headers["Location"]).get_data(as_text=True)
    found = re.search(r'id="field-review-url" type="text" readonly value="([^"]+)"', page)
    assert found is not None
    return "/" + html.unescape(found.group(1)).split("/", 3)[3]


def _comments() -> list[tuple[str, str, str]]:
    with session_scope() as session:
        return [(c.block_key, c.author_name, c.body) for c in session.scalars(select(Comment).order_by(Comment.id))]


@pytest.fixture
def review(as_user: Callable[[str], TeamClient], team: Team) -> tuple[TeamClient, list[str], str]:
    editor = as_user(team.editor)
    keys = _issue(team.editor)
    return editor, keys, _link(editor)


def _follow(client: TeamClient, response: object) -> str:
    location = response.headers["Location"]  # type: ignore[attr-defined]
    return client.get(location).get_data(as_text=True)


def test_a_whole_issue_comment_without_a_name_is_stored_and_confirmed_beside_it(
        review: tuple[TeamClient, list[str], str], anonymous: TeamClient) -> None:
    _, _, path = review
    sent = anonymous.post(f"{path}/comments", {"block": "", "author": "", "body": "Please add the dates."}, csrf=False)
    assert sent.status_code == 302 and sent.headers["Location"].endswith("#sent-general")
    assert _comments() == [("", "A reviewer", "Please add the dates.")]
    page = _follow(anonymous, sent)
    # A banner at the top, and the confirmation beside the form, which takes focus and quotes their words.
    assert page.index("Thank you: your comment was sent to the team") < page.index("<article")
    assert 'id="sent-general" tabindex="-1" data-focus-on-load' in page
    assert "Please add the dates." in page.split('id="sent-general"', 1)[1]
    assert "Your name (optional)" in page


def test_a_block_comment_with_a_name_is_stored_on_its_block(review: tuple[TeamClient, list[str], str],
                                                            anonymous: TeamClient) -> None:
    _, keys, path = review
    sent = anonymous.post(f"{path}/comments", {"block": keys[1], "author": "Priya", "body": "What is a short break?"})
    assert sent.headers["Location"].endswith(f"#sent-{keys[1]}")
    assert _comments() == [(keys[1], "Priya", "What is a short break?")]
    page = _follow(anonymous, sent)
    assert "signed Priya" in page and f'id="sent-{keys[1]}"' in page


@pytest.mark.parametrize("body, words", [
    ("   ", "Write your comment in the box"),
    ("A" * (service.MAX_COMMENT + 1), "comments can be up to 4000"),
])
def test_a_refused_comment_keeps_the_text_and_says_why_at_the_top(
        review: tuple[TeamClient, list[str], str], anonymous: TeamClient, body: str, words: str) -> None:
    _, keys, path = review
    for key in ("", keys[2]):
        fid = key or "general"
        refused = anonymous.post(f"{path}/comments", {"block": key, "author": "Sam", "body": body})
        page = refused.get_data(as_text=True)
        assert refused.status_code == 400
        assert "<title>Error: " in page
        summary = page.index('class="review-error-summary"')
        assert summary < page.index("<article") and 'data-focus-on-load' in page[summary:summary + 200]
        assert f'href="#body-{fid}"' in page and words in page
        assert f'id="body-{fid}"' in page and 'aria-invalid="true"' in page
        kept = re.search(rf'<textarea id="body-{fid}"[^>]*>([^<]*)</textarea>', page)
        assert kept is not None and kept.group(1) == body
        assert f'id="author-{fid}"' in page and 'value="Sam"' in page
    assert _comments() == []


def test_a_comment_on_a_part_removed_meanwhile_is_kept_on_the_whole_issue(
        review: tuple[TeamClient, list[str], str], anonymous: TeamClient) -> None:
    editor, keys, path = review
    editor.post(f"/team/issues/{SLUG}/blocks/{keys[0]}/delete")
    sent = anonymous.post(f"{path}/comments", {"block": keys[0], "author": "", "body": "Shorter heading?"})
    assert _comments() == [("", "A reviewer", "Shorter heading?")]
    page = _follow(anonymous, sent)
    assert "has been removed from the draft since you opened the page" in page


def test_a_comment_sent_after_the_link_was_withdrawn_is_shown_back_to_copy(
        review: tuple[TeamClient, list[str], str], anonymous: TeamClient) -> None:
    editor, keys, path = review
    with session_scope() as session:
        link_id = session.scalars(select(ReviewLink.id)).one()
    editor.post(f"/team/review-links/{link_id}/withdraw")
    refused = anonymous.post(f"{path}/comments", {"block": keys[1], "author": "Jo", "body": "My long thoughts <3"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "Your comment was not sent" in page and "withdrawn" in page
    assert "My long thoughts &lt;3</textarea>" in page and 'data-focus-on-load' in page
    assert _comments() == []


def test_a_comment_needs_no_csrf_cookie_the_signed_link_is_enough(
        review: tuple[TeamClient, list[str], str], app: object) -> None:
    _, _, path = review
    fresh = app.test_client()  # type: ignore[attr-defined]
    sent = fresh.post(f"{path}/comments", data={"block": "", "author": "", "body": "From a browser without cookies"})
    assert sent.status_code == 302
    assert _comments() == [("", "A reviewer", "From a browser without cookies")]
    assert fresh.post("/review/not-a-token/comments", data={"body": "x"}).status_code == 400


def test_the_team_sees_and_copies_every_active_link_again(review: tuple[TeamClient, list[str], str],
                                                          anonymous: TeamClient) -> None:
    editor, _, path = review
    again = editor.get(f"/team/issues/{SLUG}").get_data(as_text=True)
    field = re.search(r'<input id="(review-url-\d+)" type="text" readonly value="([^"]+)"', again)
    assert field is not None, "the link is shown after a reload"
    assert html.unescape(field.group(2)).endswith(path), "the same link as when it was made"
    assert f'data-copy-from="{field.group(1)}" hidden' in again and 'aria-live="polite"' in again
    assert "copy-link.js" in again and "Works until" in again
    assert anonymous.get(path).status_code == 200
    with session_scope() as session:
        link_id = session.scalars(select(ReviewLink.id)).one()
    editor.post(f"/team/review-links/{link_id}/withdraw")
    assert "review-url-" not in editor.get(f"/team/issues/{SLUG}").get_data(as_text=True)


def test_submitting_with_unresolved_comments_asks_first_with_the_count(
        review: tuple[TeamClient, list[str], str], anonymous: TeamClient) -> None:
    editor, keys, path = review
    anonymous.post(f"{path}/comments", {"block": keys[1], "author": "", "body": "One"})
    anonymous.post(f"{path}/comments", {"block": "", "author": "", "body": "Two"})
    asked = editor.post(f"/team/issues/{SLUG}/submit")
    page = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "2 review comments not resolved yet" in page
    assert 'name="unresolved_seen" value="2"' in page
    with session_scope() as session:
        assert store.get_issue(session, SLUG).status.value == "draft"
    # A new comment since the question was asked asks again, with the new count.
    anonymous.post(f"{path}/comments", {"block": "", "author": "", "body": "Three"})
    again = editor.post(f"/team/issues/{SLUG}/submit", {"unresolved_seen": "2"})
    assert "3 review comments" in again.get_data(as_text=True)
    done = editor.post(f"/team/issues/{SLUG}/submit", {"unresolved_seen": "3"})
    assert done.status_code == 302
    with session_scope() as session:
        assert store.get_issue(session, SLUG).status.value == "in_review"


def test_submitting_with_every_comment_resolved_asks_nothing(review: tuple[TeamClient, list[str], str]) -> None:
    editor, _, _ = review
    assert editor.post(f"/team/issues/{SLUG}/submit").status_code == 302


# --- emails to the team -------------------------------------------------------------------------------


@pytest.fixture
def smtp(db: Settings) -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture
def app(db: Settings, smtp: SmtpServer) -> object:  # overrides tests/web's: this one mails the SMTP server
    return create_app(db.model_copy(update={"smtp_url": smtp.url}))


def _mail(smtp: SmtpServer, count: int) -> list[tuple[str, str, str]]:
    assert approval_mail.drain(10)
    assert smtp.handler.wait_for(count, timeout=10)
    found = []
    for received in smtp.messages:
        message = received.message
        found.append((received.recipients[0], str(message["Subject"]), message.get_content()))
    return sorted(found)


def test_approvers_hear_of_a_submit_and_the_author_of_approval_or_a_return(
        as_user: Callable[[str], TeamClient], team: Team, smtp: SmtpServer) -> None:
    editor, ann, pat = as_user(team.editor), as_user(team.approver), as_user(team.second_approver)
    _issue(team.editor)
    assert editor.post(f"/team/issues/{SLUG}/submit").status_code == 302
    mail = _mail(smtp, 2)
    assert [m[0] for m in mail] == [team.approver, team.second_approver]
    assert all(m[1] == "Waiting for your approval: Winter news" for m in mail)
    assert "Ed Editor submitted “Winter news”" in mail[0][2] and f"/team/issues/{SLUG}" in mail[0][2]
    ann.post(f"/team/issues/{SLUG}/return")
    mail = _mail(smtp, 3)
    assert (team.editor, "Back to draft: Winter news") in [(m[0], m[1]) for m in mail]
    editor.post(f"/team/issues/{SLUG}/submit")
    pat.approve(SLUG)
    mail = _mail(smtp, 6)
    assert (team.editor, "Approved: Winter news") in [(m[0], m[1]) for m in mail]


def test_nobody_is_told_what_they_did_themselves(as_user: Callable[[str], TeamClient], team: Team,
                                                  smtp: SmtpServer) -> None:
    ann = as_user(team.approver)
    _issue(team.approver)
    ann.post(f"/team/issues/{SLUG}/submit")
    ann.post(f"/team/issues/{SLUG}/return")
    mail = _mail(smtp, 1)
    assert [m[0] for m in mail] == [team.second_approver]


def test_a_mail_server_that_is_down_never_fails_the_submit(db: Settings, team: Team, tmp_path: Path,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    from tests.smtp import free_port
    from tests.web.conftest import PASSWORD

    down = create_app(db.model_copy(update={"smtp_url": f"smtp://127.0.0.1:{free_port()}"}))
    client = TeamClient(down.test_client())
    assert client.sign_in(team.editor, PASSWORD).status_code == 302
    _issue(team.editor)
    caplog.set_level("ERROR", logger="newsletter.issues.approval_mail")
    assert client.post(f"/team/issues/{SLUG}/submit").status_code == 302
    assert approval_mail.drain(30)
    assert "team email" in caplog.text or "mail server" in caplog.text
    with session_scope() as session:
        assert store.get_issue(session, SLUG).status.value == "in_review"


def test_the_email_is_plain_text_with_the_title_and_the_link(db: Settings) -> None:
    raw = approval_mail.build(db, approval_mail.TeamEmail("ann@example.org", "Ann Approver", "Approved: June news",
                                                          "Pat approved “June news”.\nhttps://x/team/issues/june\n"))
    message = message_from_bytes(raw, policy=default_policy)
    assert message.get_content_type() == "text/plain" and message["Auto-Submitted"] == "auto-generated"
    assert "Hello Ann Approver" in message.get_content() and "https://x/team/issues/june" in message.get_content()
