"""Small things found using the composer and the web view as a person does, each with its test."""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Callable

from newsletter.config import Settings
from newsletter.db import session_scope
from newsletter.issues import store
from newsletter.issues.blocks import parse_issue
from newsletter.render.imagesize import width_of
from newsletter.render.pipeline import render_issue
from newsletter.theme import get_theme

from tests.web.conftest import Team, TeamClient
from tests.web.test_composer import EVERY_BLOCK, _add, _new_issue, _version


def _png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\0" + b"\x80" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def test_a_test_send_names_the_issue_by_its_title(as_user: Callable[[str], TeamClient], team: Team) -> None:
    editor = as_user(team.editor)
    slug = _new_issue(editor, "Winter news for families")
    _add(editor, slug, EVERY_BLOCK[1])
    response = editor.post(f"/team/issues/{slug}/test-send", {"addresses": "team@example.org"})
    page = editor.get(response.headers["Location"]).get_data(as_text=True)
    assert "Sent a test of “Winter news for families” to team@example.org." in page
    assert slug not in page.split("Sent a test of", 1)[1].split("</p>", 1)[0]


def test_retry_failed_only_when_something_failed_and_started_only_while_sending(
        as_user: Callable[[str], TeamClient], team: Team, db: Settings) -> None:
    from newsletter.delivery.embedded import EmbeddedRunner
    from tests.delivery.conftest import make_list, make_readers

    make_readers(make_list("send-news", "SEND newsletter"), 2)
    editor, approver = as_user(team.editor), as_user(team.approver)
    slug = _new_issue(editor)
    _add(editor, slug, EVERY_BLOCK[1])
    approver.approve(slug)
    sent = approver.post(f"/team/issues/{slug}/send", {"list": ["send-news"], "when": "", "confirm": "yes",
                                                       "version": _version(slug)})
    campaign_url = sent.headers["Location"]
    page = approver.get(campaign_url).get_data(as_text=True)
    # The message is marked as true only while sending, so the live page can take it away.
    assert '<p class="message message-progress" role="status">Sending has started.</p>' in page
    runner = EmbeddedRunner(db)
    try:
        runner.run_until(lambda: approver.get(campaign_url + "/progress.json").get_json()["finished"])
    finally:
        runner.close()
    page = approver.get(campaign_url).get_data(as_text=True)
    assert "Sending has started." not in page
    # Finished before the page was first shown: the message is not shown at all.
    with approver.client.session_transaction() as browser:
        browser["_flashes"] = [("progress", "Sending has started."), ("message", "Something else.")]
    page = approver.get(campaign_url).get_data(as_text=True)
    assert "Sending has started." not in page and "Something else." in page
    retry = page.split('action="' + campaign_url + '/retry-failed"', 1)[1].split(">", 1)[0]
    assert "hidden" in retry and "data-needs-failed" in retry
    campaign_id = int(campaign_url.rsplit("/", 1)[1])
    with session_scope() as session:
        from sqlalchemy import update

        from newsletter.delivery.models import Delivery, DeliveryState

        session.execute(update(Delivery).where(Delivery.campaign_id == campaign_id).values(state=DeliveryState.FAILED))
    page = approver.get(campaign_url).get_data(as_text=True)
    retry = page.split('action="' + campaign_url + '/retry-failed"', 1)[1].split(">", 1)[0]
    assert "hidden" not in retry
    script = approver.get("/static/team.js").get_data(as_text=True)
    assert "data-needs-failed" in script and ".message-progress" in script


def test_a_story_picture_is_never_stretched_past_its_own_width(settings: Settings) -> None:
    settings.media_dir.mkdir(parents=True, exist_ok=True)
    (settings.media_dir / "small.png").write_bytes(_png(120, 80))
    assert width_of(_png(120, 80)) == 120
    doc = parse_issue({"title": "News", "subject": "News", "blocks": [
        {"type": "story", "title": "Travel training", "body": "Sam takes the bus.", "image": "/media/small.png",
         "alt": "Sam at the bus stop"},
        {"type": "story", "title": "Elsewhere", "body": "A picture at another site.",
         "image": "https://images.example.net/big.png", "alt": "A park"},
    ]})
    rendered = render_issue(doc, "news", get_theme(), settings)
    html = rendered.html.public
    # MJML puts the picture in a cell as wide as asked, and the picture fills that cell: so 120 pixels at most.
    cell = html.split('alt="Sam at the bus stop"', 1)[0].rsplit("<td", 1)[1]
    assert 'width="120"' in cell and "width:120px" in cell, cell
    other = html.split('alt="A park"', 1)[0].rsplit("<td", 1)[1]
    assert 'width="120"' not in other, "a picture at another site is not fetched: it keeps the column's width"
    # The web view's stylesheet keeps a story picture at its own width or less.
    from newsletter.paths import templates_dir

    css = (templates_dir() / "web" / "static" / "web.css").read_text()
    rule = css.split(".story > img {", 1)[1].split("}", 1)[0]
    assert "max-width: 100%" in rule and "width: auto" in rule and not re.search(r"(?<!max-)width: 100%", rule)


def test_the_web_view_invites_a_reader_it_was_forwarded_to(as_user: Callable[[str], TeamClient], team: Team,
                                                          db: Settings) -> None:
    editor = as_user(team.editor)
    slug = _new_issue(editor)
    _add(editor, slug, EVERY_BLOCK[1])
    with session_scope() as session:
        web = render_issue(store.document(store.get_issue(session, slug)), slug, get_theme(), db).web_html
    assert f'<a href="{db.base_url}/subscribe">Subscribe to News for SEND families</a>' in web
    assert "Was this forwarded to you?" in web
