"""The composer through its forms: sign-in, the block editor, checks, roles, review and sending.

Everything goes through the real app and database (both backends) with the CSRF token a browser
would send; the browser tests in tests/browser drive the same pages in chromium.
"""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Callable

import pytest
from sqlalchemy import select

from newsletter.config import Settings
from newsletter.db import session_scope
from newsletter.issues import store
from newsletter.issues.models import Issue, IssueStatus
from newsletter.review.models import Comment

from tests.web.conftest import TeamClient, Team

# A 1x1 PNG: uploads are checked to be the image their name says.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)

EVERY_BLOCK = [
    {"type": "heading", "text": "Short breaks this winter", "level": "2"},
    {"type": "text", "markdown": "Families told us **what works**. Read the [guide](https://example.org/guide)."},
    {"type": "button", "label": "Book a place", "url": "https://example.org/book"},
    {"type": "story", "title": "Travel training", "body": "Sam learnt to take the bus to college.",
     "link_label": "Read Sam's story", "link_url": "https://example.org/sam"},
    {"type": "quote", "text": "We were listened to.", "cite": "A parent carer"},
    {"type": "contact", "heading": "Talk to us", "email": "localoffer@example.org", "phone": "0161 496 0000",
     "links-1-label": "Local Offer directory", "links-1-url": "https://example.org/directory"},
    {"type": "divider"},
    {"type": "social", "heading": "Follow us", "links-1-network": "facebook", "links-1-url": "https://facebook.com/example",
     "links-2-network": "youtube", "links-2-url": "https://youtube.com/@example"},
    {"type": "notice", "heading": "Apply for school transport by 31 May",
     "body": "If your child starts a new school in September, **apply by 31 May**."},
]


def _new_issue(client: TeamClient, title: str = "December news") -> str:
    response = client.post("/team/issues/new", {"title": title, "subject": f"{title} from the Local Offer",
                                                "preheader": "", "date": "2026-12-01", "language": "en-GB"})
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"].rsplit("/", 1)[1]


def _add(client: TeamClient, slug: str, fields: dict[str, object], **kwargs: object) -> str:
    response = client.post(f"/team/issues/{slug}/blocks/new", dict(fields), **kwargs)
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"].rsplit("#block-", 1)[1]


def _version(slug: str) -> str:
    """The version of the issue a page shows, as a send or approve form carries it."""
    with session_scope() as session:
        return store.content_version(store.get_issue(session, slug))


def _issue(slug: str) -> Issue:
    with session_scope() as session:
        issue = store.get_issue(session, slug)
        session.expunge(issue)
        return issue


# --- signing in --------------------------------------------------------------------------------------


def test_a_signed_out_visitor_gets_nothing_from_the_composer(anonymous: TeamClient, team: Team) -> None:
    for url in ("/team/", "/team/issues", "/team/issues/new", "/team/campaigns", "/team/lists",
                "/team/issues/anything/preview", "/team/issues/anything/preview/email"):
        response = anonymous.get(url)
        assert response.status_code == 302 and "/team/sign-in?next=" in response.headers["Location"], url
    # With a valid CSRF token, a POST is still refused: the session is what is missing.
    for url in ("/team/issues/new", "/team/markdown-preview", "/team/issues/x/approve", "/team/campaigns/1/pause"):
        assert anonymous.post(url, {"title": "x"}).status_code == 401, url


def test_sign_in_says_little_and_slows_repeated_failures(anonymous: TeamClient, team: Team) -> None:
    wrong = anonymous.sign_in(team.editor, "not the password")
    unknown = anonymous.sign_in("nobody@example.org", "not the password")
    assert wrong.status_code == unknown.status_code == 400
    assert "not right" in wrong.get_data(as_text=True) and "not right" in unknown.get_data(as_text=True)
    for _ in range(4):  # five wrong passwords in a row
        anonymous.sign_in(team.editor, "still wrong")
    waiting = anonymous.sign_in(team.editor)  # the right password, but this address must wait from here
    assert waiting.status_code == 400 and "Wait 1 minute, then try again" in waiting.get_data(as_text=True)
    assert anonymous.get("/team/issues").status_code == 302


def test_sign_in_goes_back_where_it_was_asked_but_never_off_site(anonymous: TeamClient, team: Team) -> None:
    response = anonymous.post("/team/sign-in", {"email": team.editor, "password": "a long enough password",
                                                "next": "https://evil.example/phish"})
    assert response.headers["Location"] == "/team/issues"
    anonymous.post("/team/sign-out")
    response = anonymous.post("/team/sign-in", {"email": team.editor, "password": "a long enough password",
                                                "next": "/team/campaigns"})
    assert response.headers["Location"] == "/team/campaigns"
    assert response.headers.get("Set-Cookie", "").count("HttpOnly") >= 1


def test_a_changed_password_signs_out_other_browsers(as_user: Callable[[str], TeamClient], team: Team) -> None:
    from newsletter.accounts import service

    client = as_user(team.editor)
    assert client.get("/team/issues").status_code == 200
    with session_scope() as session:
        service.set_password(session, service.find_user(session, team.editor), "another long password")
    assert client.get("/team/issues").status_code == 302


def test_every_form_refuses_a_post_without_the_csrf_token(as_user: Callable[[str], TeamClient], team: Team) -> None:
    client = as_user(team.approver)
    slug = _new_issue(client)
    key = _add(client, slug, {"type": "divider"})
    posts = [
        "/team/issues/new", f"/team/issues/{slug}/details", f"/team/issues/{slug}/blocks/new?type=divider",
        f"/team/issues/{slug}/blocks/{key}", f"/team/issues/{slug}/blocks/{key}/move",
        f"/team/issues/{slug}/blocks/{key}/delete", "/team/markdown-preview", f"/team/issues/{slug}/duplicate",
        f"/team/issues/{slug}/delete", f"/team/issues/{slug}/submit", f"/team/issues/{slug}/approve",
        f"/team/issues/{slug}/return", f"/team/issues/{slug}/test-send", f"/team/issues/{slug}/review-links",
        "/team/review-links/1/withdraw", "/team/comments/1/resolve", f"/team/issues/{slug}/send",
        "/team/campaigns/1/pause", "/team/sign-out", "/team/sign-in", "/team/users/1/password",
        "/team/users/1/reactivate", "/team/account/password",
    ]
    for url in posts:
        response = client.post(url, {"title": "x", "direction": "up"}, csrf=False)
        assert response.status_code == 400 and "could not accept this form" in response.get_data(as_text=True), url
    assert len(_issue(slug).blocks) == 1


# --- the block editor --------------------------------------------------------------------------------


def test_add_every_block_type_through_its_form(as_user: Callable[[str], TeamClient], team: Team, db: Settings) -> None:
    client = as_user(team.editor)
    slug = _new_issue(client)
    for fields in EVERY_BLOCK:
        _add(client, slug, fields)
    _add(client, slug, {"type": "image", "alt": "Children at the sensory garden", "caption": "The garden",
                        "src_file": (io.BytesIO(PNG), "garden.png")}, content_type="multipart/form-data")
    issue = _issue(slug)
    assert [b["type"] for b in issue.blocks] == [f["type"] for f in EVERY_BLOCK] + ["image"]
    assert len(set(issue.block_keys)) == len(issue.blocks)
    assert issue.created_by_id is not None
    image = issue.blocks[-1]
    assert image["src"].startswith("/media/") and (db.media_dir / image["src"].removeprefix("/media/")).read_bytes() == PNG
    assert issue.blocks[5]["links"] == [{"label": "Local Offer directory", "url": "https://example.org/directory"}]
    assert issue.blocks[7]["links"][1] == {"network": "youtube", "url": "https://youtube.com/@example"}
    page = client.get(f"/team/issues/{slug}").get_data(as_text=True)
    assert "Short breaks this winter" in page and "Travel training" in page and "Book a place" in page
    # Editing shows the stored values back in the form.
    edit = client.get(f"/team/issues/{slug}/blocks/{issue.block_keys[5]}").get_data(as_text=True)
    assert 'name="links-1-label" type="text" value="Local Offer directory"' in edit
    assert 'name="links-1-url" type="text" value="https://example.org/directory"' in edit
    # The notice is in the block list under its heading, and stored as typed.
    assert "Apply for school transport by 31 May" in page
    notice = issue.blocks[8]
    assert notice == {"type": "notice", "heading": "Apply for school transport by 31 May",
                      "body": "If your child starts a new school in September, **apply by 31 May**."}


def test_the_notice_form_previews_its_markdown_and_names_a_missing_heading(
    as_user: Callable[[str], TeamClient], team: Team, db: Settings
) -> None:
    client = as_user(team.editor)
    slug = _new_issue(client)
    form = client.get(f"/team/issues/{slug}/blocks/new?type=notice").get_data(as_text=True)
    assert 'data-markdown-preview="preview-body"' in form
    assert 'name="heading"' in form and "data-markdown-preview=\"preview-heading\"" not in form
    refused = client.post(f"/team/issues/{slug}/blocks/new", {"type": "notice", "body": "Apply by **Friday**."})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "There is a problem" in page and "Heading" in page
    assert "Apply by **Friday**." in page, "what was typed is kept"
    assert _issue(slug).blocks == []


def test_a_decorative_image_is_said_so_and_a_missing_alt_is_refused(as_user: Callable[[str], TeamClient],
                                                                     team: Team) -> None:
    client = as_user(team.editor)
    slug = _new_issue(client)
    refused = client.post(f"/team/issues/{slug}/blocks/new", {"type": "image", "caption": "Kept",
                                                              "src_file": (io.BytesIO(PNG), "dots.png")},
                          content_type="multipart/form-data")
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "There is a problem" in page and "Alternative text" in page
    assert 'value="Kept"' in page, "what was typed is kept"
    assert 'aria-invalid="true"' in page
    _add(client, slug, {"type": "image", "alt_decorative": "1", "src_file": (io.BytesIO(PNG), "dots.png")},
         content_type="multipart/form-data")
    assert _issue(slug).blocks[0]["alt"] == ""


def test_a_file_that_is_not_the_image_it_claims_is_refused(as_user: Callable[[str], TeamClient], team: Team) -> None:
    client = as_user(team.editor)
    slug = _new_issue(client)
    response = client.post(f"/team/issues/{slug}/blocks/new",
                           {"type": "image", "alt": "x", "src_file": (io.BytesIO(b"<svg onload=alert(1)>"), "a.png")},
                           content_type="multipart/form-data")
    assert response.status_code == 400 and "not a PNG image" in response.get_data(as_text=True)
    assert _issue(slug).blocks == []


def test_an_invalid_field_is_named_and_nothing_is_saved(as_user: Callable[[str], TeamClient], team: Team) -> None:
    client = as_user(team.editor)
    slug = _new_issue(client)
    response = client.post(f"/team/issues/{slug}/blocks/new", {"type": "button", "label": "Book", "url": "the website"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'href="#field-url"' in page and "cannot be a link: an address cannot have spaces in it" in page
    assert _issue(slug).blocks == []


def test_reorder_with_move_buttons_and_by_position_then_delete(as_user: Callable[[str], TeamClient], team: Team) -> None:
    client = as_user(team.editor)
    slug = _new_issue(client)
    keys = [_add(client, slug, {"type": "heading", "text": f"Section {n}", "level": "2"}) for n in range(3)]
    moved = client.post(f"/team/issues/{slug}/blocks/{keys[2]}/move", {"direction": "up"})
    assert f"moved={keys[2]}-up" in moved.headers["Location"]
    assert _issue(slug).block_keys == [keys[0], keys[2], keys[1]]
    page = client.get(moved.headers["Location"]).get_data(as_text=True)
    assert re.search(r'value="up">\s*<button[^>]*autofocus', page), "focus stays on the button just used"
    client.post(f"/team/issues/{slug}/blocks/{keys[0]}/move", {"to": "2"}, headers={"X-Requested-With": "fetch"})
    assert _issue(slug).block_keys == [keys[2], keys[1], keys[0]]
    client.post(f"/team/issues/{slug}/blocks/{keys[1]}/delete")
    issue = _issue(slug)
    assert issue.block_keys == [keys[2], keys[0]] and [b["text"] for b in issue.blocks] == ["Section 2", "Section 0"]


def test_markdown_preview_sanitises_script_as_the_email_does(as_user: Callable[[str], TeamClient], team: Team) -> None:
    client = as_user(team.editor)
    html = client.post("/team/markdown-preview", {
        "markdown": "Hello **there** <script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)>"
    }).get_data(as_text=True)
    assert "<strong>there</strong>" in html
    assert "<script" not in html and 'href="javascript' not in html and "<img" not in html


def test_a_script_in_a_block_never_reaches_preview_web_view_or_email(as_user: Callable[[str], TeamClient],
                                                                     team: Team) -> None:
    client = as_user(team.editor)
    slug = _new_issue(client)
    _add(client, slug, {"type": "text", "markdown": "Hi <script>alert('x')</script><b onclick=alert(1)>there</b>"})
    _add(client, slug, {"type": "quote", "text": "<img src=x onerror=alert(2)>", "cite": "<script>alert(3)</script>"})
    for url in (f"/team/issues/{slug}", f"/team/issues/{slug}/preview/email", f"/team/issues/{slug}/preview/web",
                f"/team/issues/{slug}/preview?view=text"):
        body = client.get(url).get_data(as_text=True)
        assert "<script>alert" not in body and "<img src=x" not in body and "<b onclick" not in body, url


def test_preview_views_and_the_sandboxed_email_frame(as_user: Callable[[str], TeamClient], team: Team) -> None:
    client = as_user(team.editor)
    slug = _new_issue(client)
    _add(client, slug, EVERY_BLOCK[1])
    for view in ("desktop", "phone", "dark", "forced-dark", "text", "web"):
        assert client.get(f"/team/issues/{slug}/preview?view={view}").status_code == 200
    text = client.get(f"/team/issues/{slug}/preview?view=text").get_data(as_text=True)
    assert "Families told us what works" in text and "https://example.org/guide" in text
    frame = client.get(f"/team/issues/{slug}/preview/email")
    assert "sandbox" in frame.headers["Content-Security-Policy"]
    assert "allow-scripts" not in frame.headers["Content-Security-Policy"]
    assert frame.headers["Cache-Control"] == "no-store"
    forced = client.get(f"/team/issues/{slug}/preview/email?mode=forced-dark").get_data(as_text=True)
    assert "invert(1)" in forced and "invert(1)" not in frame.get_data(as_text=True)
    own = client.get(f"/team/issues/{slug}/preview/email?mode=dark").get_data(as_text=True)
    assert "@media all" in own and "prefers-color-scheme: dark" in frame.get_data(as_text=True)


def test_duplicate_starts_next_month_and_only_a_draft_can_be_deleted(as_user: Callable[[str], TeamClient],
                                                                     team: Team) -> None:
    client = as_user(team.editor)
    slug = _new_issue(client)
    _add(client, slug, EVERY_BLOCK[0])
    copy = client.post(f"/team/issues/{slug}/duplicate").headers["Location"].rsplit("/", 1)[1]
    assert copy != slug and _issue(copy).blocks == _issue(slug).blocks and _issue(copy).status is IssueStatus.DRAFT
    client.post(f"/team/issues/{slug}/submit")
    client.post(f"/team/issues/{slug}/delete")
    assert _issue(slug).status is IssueStatus.IN_REVIEW
    client.post(f"/team/issues/{copy}/delete")
    with session_scope() as session:
        assert store.find_issue(session, copy) is None


# --- checks, roles and approval ----------------------------------------------------------------------


def test_check_errors_show_on_their_block_and_block_approval_until_fixed(as_user: Callable[[str], TeamClient],
                                                                        team: Team) -> None:
    editor, approver = as_user(team.editor), as_user(team.approver)
    slug = _new_issue(editor)
    _add(editor, slug, EVERY_BLOCK[0])
    key = _add(editor, slug, {"type": "button", "label": "Click here", "url": "https://example.org/book"})
    page = editor.get(f"/team/issues/{slug}").get_data(as_text=True)
    assert "Checks: 1 error" in page and f'href="#block-{key}"' in page and "Click here" in page
    approver.approve(slug)
    assert _issue(slug).status is IssueStatus.DRAFT
    editor.post(f"/team/issues/{slug}/blocks/{key}", {"label": "Book a short break", "url": "https://example.org/book"})
    assert "Checks: 0 errors" in editor.get(f"/team/issues/{slug}").get_data(as_text=True)
    approver.approve(slug)
    assert _issue(slug).status is IssueStatus.APPROVED


def test_editors_cannot_approve_or_send_and_nobody_approves_their_own(as_user: Callable[[str], TeamClient],
                                                                     team: Team) -> None:
    editor, ann, pat = as_user(team.editor), as_user(team.approver), as_user(team.second_approver)
    slug = _new_issue(ann)
    _add(ann, slug, EVERY_BLOCK[0])
    ann.post(f"/team/issues/{slug}/submit")
    assert editor.post(f"/team/issues/{slug}/approve").status_code == 403
    assert editor.get(f"/team/issues/{slug}/send").status_code == 403
    assert editor.post(f"/team/issues/{slug}/send", {"list": "x", "confirm": "yes"}).status_code == 403
    ann.approve(slug)
    assert _issue(slug).status is IssueStatus.IN_REVIEW, "the author cannot approve their own issue"
    assert "someone else on the team must approve it" in ann.get(f"/team/issues/{slug}").get_data(as_text=True)
    pat.approve(slug)
    issue = _issue(slug)
    assert issue.status is IssueStatus.APPROVED and issue.approved_at is not None
    assert "Approved by Pat Approver" in ann.get(f"/team/issues/{slug}").get_data(as_text=True)
    # A change after approval needs approving again.
    editor.post(f"/team/issues/{slug}/blocks/new", EVERY_BLOCK[6])
    issue = _issue(slug)
    assert issue.status is IssueStatus.IN_REVIEW and issue.approved_by_id is None


# --- co-production review ----------------------------------------------------------------------------


def test_a_reviewer_comments_on_a_block_and_the_team_resolves_it(as_user: Callable[[str], TeamClient],
                                                                 anonymous: TeamClient, team: Team) -> None:
    editor = as_user(team.editor)
    slug = _new_issue(editor)
    key = _add(editor, slug, EVERY_BLOCK[1])
    shared = editor.post(f"/team/issues/{slug}/review-links", {"label": "Parent Carer Forum"})
    assert "review" not in shared.headers["Location"].split("#")[0], "the link stays out of the address"
    editor_page = editor.get(shared.headers["Location"]).get_data(as_text=True)
    review_url = re.search(r'id="field-review-url" type="text" readonly value="([^"]+)"', editor_page).group(1)  # type: ignore[union-attr]
    assert "field-review-url" not in editor.get(f"/team/issues/{slug}").get_data(as_text=True), "shown once"
    path = "/" + review_url.split("/", 3)[3]
    page = anonymous.get(path)
    assert page.status_code == 200 and "Families told us" in page.get_data(as_text=True)
    assert page.headers["X-Robots-Tag"] == "noindex" and page.headers["Referrer-Policy"] == "same-origin"
    # An empty comment keeps the name typed and says what is missing.
    empty = anonymous.post(f"{path}/comments", {"block": key, "author": "Priya", "body": " "})
    assert empty.status_code == 400 and 'value="Priya"' in empty.get_data(as_text=True)
    done = anonymous.post(f"{path}/comments", {"block": key, "author": "Priya", "body": "Say what EHCP stands for."})
    assert done.status_code == 302
    editor_page = editor.get(f"/team/issues/{slug}").get_data(as_text=True)
    assert "Say what EHCP stands for." in editor_page and "Priya" in editor_page
    with session_scope() as session:
        comment = session.scalars(select(Comment)).one()
        assert comment.block_key == key
        comment_id = comment.id
    editor.post(f"/team/comments/{comment_id}/resolve")
    assert "Say what EHCP stands for." not in editor.get(f"/team/issues/{slug}").get_data(as_text=True)
    # A tampered link, and a withdrawn one, change nothing and say why.
    # Change a character inside the signature: the last one carries two spare bits that base64
    # decoders ignore, so changing it alone can leave the signature intact.
    tampered = path[:-5] + ("A" if path[-5] != "A" else "B") + path[-4:]
    assert anonymous.get(tampered).status_code == 400
    from newsletter.review.models import ReviewLink

    with session_scope() as session:
        link_id = session.scalars(select(ReviewLink.id)).one()
    editor.post(f"/team/review-links/{link_id}/withdraw")
    refused = anonymous.post(f"{path}/comments", {"block": key, "author": "Priya", "body": "More"})
    assert refused.status_code == 400 and "withdrawn" in refused.get_data(as_text=True)
    with session_scope() as session:
        assert len(session.scalars(select(Comment)).all()) == 1


# --- sending -----------------------------------------------------------------------------------------


def test_send_shows_the_count_then_sends_and_reports_progress(as_user: Callable[[str], TeamClient], team: Team,
                                                              db: Settings) -> None:
    from newsletter.delivery.embedded import EmbeddedRunner
    from tests.delivery.conftest import make_list, make_readers

    news = make_list("send-news", "SEND newsletter")
    breaks = make_list("short-breaks", "Short breaks")
    make_readers(news, 5)
    make_readers(breaks, 3, start=3)  # readers 3 and 4 are on both lists: one copy each
    editor, approver = as_user(team.editor), as_user(team.approver)
    slug = _new_issue(editor)
    _add(editor, slug, EVERY_BLOCK[1])
    approver.approve(slug)
    form = approver.get(f"/team/issues/{slug}/send").get_data(as_text=True)
    assert "SEND newsletter" in form and "(5 can receive it)" in form
    step = approver.post(f"/team/issues/{slug}/send", {"list": ["send-news", "short-breaks"], "when": ""})
    assert step.status_code == 200 and "<strong>6</strong> people will get this issue" in step.get_data(as_text=True)
    assert _issue(slug).status is IssueStatus.APPROVED, "nothing is sent before confirming"
    sent = approver.post(f"/team/issues/{slug}/send", {"list": ["send-news", "short-breaks"], "when": "",
                                                       "confirm": "yes", "version": _version(slug)})
    campaign_url = sent.headers["Location"]
    assert "/team/campaigns/" in campaign_url and _issue(slug).status is IssueStatus.SENDING
    runner = EmbeddedRunner(db)
    try:
        runner.run_until(lambda: approver.get(campaign_url + "/progress.json").get_json()["finished"])
    finally:
        runner.close()
    progress = approver.get(campaign_url + "/progress.json").get_json()
    assert progress["counts"]["sent"] == 6 and progress["state"] == "finished"
    # The author's "Approved" email goes to the same outbox, from its own thread; count the issue's copies.
    assert len([p for p in db.outbox_dir.glob("*.eml") if b"Subject: Approved: " not in p.read_bytes()]) == 6
    assert "Finished" in approver.get(campaign_url).get_data(as_text=True)
    assert editor.post(campaign_url + "/retry-failed").status_code == 403


def test_schedule_then_pause_resume_and_cancel(as_user: Callable[[str], TeamClient], team: Team) -> None:
    from tests.delivery.conftest import make_list, make_readers

    make_readers(make_list(), 2)
    editor, approver = as_user(team.editor), as_user(team.approver)
    slug = _new_issue(editor)
    _add(editor, slug, EVERY_BLOCK[0])
    approver.approve(slug)
    bad = approver.post(f"/team/issues/{slug}/send", {"list": "send-news", "when": "next tuesday"})
    assert bad.status_code == 400 and "date and time" in bad.get_data(as_text=True)
    campaign_url = approver.post(f"/team/issues/{slug}/send", {"list": "send-news", "when": "2030-01-01T09:00",
                                                               "confirm": "yes", "version": _version(slug)}).headers["Location"]
    assert _issue(slug).status is IssueStatus.SCHEDULED
    assert "Scheduled for 1 January 2030" in approver.get(campaign_url).get_data(as_text=True)
    approver.post(campaign_url + "/pause")
    assert approver.get(campaign_url + "/progress.json").get_json()["state"] == "paused"
    approver.post(campaign_url + "/resume")
    # Resumed before its time, it waits for that time again rather than sending at once.
    assert approver.get(campaign_url + "/progress.json").get_json()["state"] == "scheduled"
    approver.post(campaign_url + "/cancel")
    progress = approver.get(campaign_url + "/progress.json").get_json()
    assert progress["state"] == "cancelled" and progress["counts"]["skipped"] == 2 and progress["finished"]


def test_an_approver_approves_only_the_version_they_read(as_user: Callable[[str], TeamClient], team: Team) -> None:
    editor, approver = as_user(team.editor), as_user(team.approver)
    slug = _new_issue(editor)
    key = _add(editor, slug, {"type": "contact", "heading": "Call us", "phone": "01632 960 123"})
    editor.post(f"/team/issues/{slug}/submit")
    page = approver.get(f"/team/issues/{slug}").get_data(as_text=True)
    read = re.search(r'name="version" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    # While the approver reads, the editor saves another phone number.
    editor.post(f"/team/issues/{slug}/blocks/{key}", {"heading": "Call us", "phone": "01632 960 999"})
    approver.post(f"/team/issues/{slug}/approve", {"version": read})
    assert _issue(slug).status is IssueStatus.IN_REVIEW, "content the approver never saw was not approved"
    assert "changed after you opened it" in approver.get(f"/team/issues/{slug}").get_data(as_text=True)
    approver.approve(slug)  # having read it again
    assert _issue(slug).status is IssueStatus.APPROVED


def test_a_failed_campaign_shows_why_and_offers_resume(as_user: Callable[[str], TeamClient], team: Team) -> None:
    from sqlalchemy import update

    from newsletter.delivery import campaigns
    from newsletter.delivery.models import Campaign, CampaignState
    from tests.delivery.conftest import make_list, make_readers

    make_readers(make_list(), 2)
    editor, approver = as_user(team.editor), as_user(team.approver)
    slug = _new_issue(editor)
    _add(editor, slug, EVERY_BLOCK[0])
    approver.approve(slug)
    campaign_url = approver.post(f"/team/issues/{slug}/send", {"list": "send-news", "when": "2030-01-01T09:00",
                                                               "confirm": "yes", "version": _version(slug)}).headers["Location"]
    campaign_id = int(campaign_url.rstrip("/").rsplit("/", 1)[1])
    with session_scope() as session:
        # As the sender does when the message cannot be built (tests/delivery/test_guarantees.py builds one).
        session.execute(update(Campaign).where(Campaign.id == campaign_id).values(state=CampaignState.RUNNING))
    with session_scope() as session:
        campaigns.fail(session, campaign_id, "The list name cannot go in an email header")
    page = approver.get(campaign_url).get_data(as_text=True)
    assert "The list name cannot go in an email header" in page and "Stopped: the email could not be made" in page
    assert approver.get(campaign_url + "/progress.json").get_json()["failure_reason"].startswith("The list name")
    approver.post(campaign_url + "/resume")
    assert approver.get(campaign_url + "/progress.json").get_json()["state"] in ("running", "scheduled")


def test_send_confirms_only_the_version_the_approver_opened(as_user: Callable[[str], TeamClient], team: Team) -> None:
    from tests.delivery.conftest import make_list, make_readers

    make_readers(make_list(), 2)
    editor, ann, pat = as_user(team.editor), as_user(team.approver), as_user(team.second_approver)
    slug = _new_issue(editor)
    key = _add(editor, slug, {"type": "contact", "heading": "Call us", "phone": "01632 960 123"})
    ann.approve(slug)
    opened = _version(slug)
    # Meanwhile the issue goes back, is changed and is approved again by someone else.
    editor.post(f"/team/issues/{slug}/return")
    editor.post(f"/team/issues/{slug}/blocks/{key}", {"heading": "Call us", "phone": "01632 960 999"})
    pat.approve(slug)
    stale = ann.post(f"/team/issues/{slug}/send", {"list": "send-news", "when": "", "confirm": "yes",
                                                   "version": opened})
    assert stale.status_code == 400 and "changed after you opened this page" in stale.get_data(as_text=True)
    assert _issue(slug).status is IssueStatus.APPROVED, "nothing was sent"
    sent = ann.post(f"/team/issues/{slug}/send", {"list": "send-news", "when": "", "confirm": "yes",
                                                  "version": _version(slug)})
    assert sent.status_code == 302


def test_scheduling_reads_and_shows_the_teams_clock(as_user: Callable[[str], TeamClient], team: Team) -> None:
    from datetime import datetime, timezone

    from newsletter.delivery.models import Campaign
    from tests.delivery.conftest import make_list, make_readers

    make_readers(make_list(), 1)
    editor, approver = as_user(team.editor), as_user(team.approver)
    slug = _new_issue(editor)
    _add(editor, slug, EVERY_BLOCK[0])
    approver.approve(slug)
    form = approver.get(f"/team/issues/{slug}/send").get_data(as_text=True)
    assert "Europe/London" in form
    step = approver.post(f"/team/issues/{slug}/send", {"list": "send-news", "when": "2030-07-02T09:00",
                                                       "version": _version(slug)}).get_data(as_text=True)
    assert "2 July 2030 at 09:00 BST" in step
    campaign_url = approver.post(f"/team/issues/{slug}/send", {"list": "send-news", "when": "2030-07-02T09:00",
                                                               "confirm": "yes", "version": _version(slug)}
                                 ).headers["Location"]
    with session_scope() as session:
        campaign = session.get(Campaign, int(campaign_url.rstrip("/").rsplit("/", 1)[1]))
        assert campaign.send_at == datetime(2030, 7, 2, 8, 0, tzinfo=timezone.utc), "9:00 in July is 8:00 UTC"
    assert "Scheduled for 2 July 2030 at 09:00 BST" in approver.get(campaign_url).get_data(as_text=True)
    skipped = approver.post(f"/team/issues/{slug}/send", {"list": "send-news", "when": "2031-03-30T01:30",
                                                          "version": _version(slug)})
    assert skipped.status_code == 400 and "clocks go forward" in skipped.get_data(as_text=True)
