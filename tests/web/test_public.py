"""Public pages through the Flask app: web views of sent issues only, archive, feed, previews, headers."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from flask.testing import FlaskClient

from newsletter.config import Settings
from newsletter.db import session_scope
from newsletter.issues import service, store
from newsletter.issues.models import IssueStatus
from newsletter.tokens import sign
from newsletter.web import create_app
from newsletter.web.public import PREVIEW_PURPOSE

from tests.conftest import EXAMPLE


@pytest.fixture
def client(db: Settings) -> FlaskClient:
    with session_scope() as session:
        service.import_issue(session, EXAMPLE, db)
    return create_app(db).test_client()


def _send(slug: str = "co-production-week-2026") -> None:
    with session_scope() as session:
        issue = store.get_issue(session, slug)
        for state in (IssueStatus.IN_REVIEW, IssueStatus.APPROVED, IssueStatus.SENDING, IssueStatus.SENT):
            store.move(issue, state)


def test_draft_is_not_public_but_previewable_with_a_signed_link(client: FlaskClient) -> None:
    assert client.get("/issues/co-production-week-2026").status_code == 404
    response = client.get(f"/preview/{sign(PREVIEW_PURPOSE, 'co-production-week-2026')}")
    assert response.status_code == 200
    assert response.headers["X-Robots-Tag"] == "noindex"
    assert b"Co-production Week 2026" in response.data


def test_tampered_preview_link_gets_a_page_not_a_traceback(client: FlaskClient) -> None:
    token = sign(PREVIEW_PURPOSE, "co-production-week-2026")
    response = client.get(f"/preview/{token[:-3]}abc")
    assert response.status_code == 400
    assert b"This link is not valid" in response.data and b"<h1>" in response.data
    foreign = sign("something-else", "co-production-week-2026")
    assert client.get(f"/preview/{foreign}").status_code == 400


def test_sent_issue_web_view_archive_and_feed(client: FlaskClient, db: Settings) -> None:
    _send()
    page = client.get("/issues/co-production-week-2026")
    assert page.status_code == 200 and b"<h1>News for SEND families" in page.data
    archive = client.get("/issues/")
    assert b'href="https://news.example.org/issues/co-production-week-2026"' in archive.data
    assert client.get("/issues/?q=co-production").data.count(b"co-production-week-2026") >= 1
    assert b"co-production-week-2026" not in client.get("/issues/?q=zebras").data
    feed = client.get("/issues/feed.atom")
    assert feed.mimetype == "application/atom+xml"
    root = ET.fromstring(feed.data)
    entries = root.findall("{http://www.w3.org/2005/Atom}entry")
    assert len(entries) == 1
    assert entries[0].find("{http://www.w3.org/2005/Atom}id").text == f"{db.base_url}/issues/co-production-week-2026"


def test_media_is_served_and_paths_cannot_escape(client: FlaskClient, db: Settings) -> None:
    name = next(db.media_dir.iterdir()).name
    assert client.get(f"/media/{name}").status_code == 200
    assert client.get("/media/..%2Fnewsletter.db").status_code == 404
    assert client.get("/media/nothing.png").status_code == 404


def test_security_headers_and_error_pages(client: FlaskClient) -> None:
    response = client.get("/issues/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    missing = client.get("/no/such/page")
    assert missing.status_code == 404 and b"We could not find that page" in missing.data
    assert b"Traceback" not in missing.data


def test_web_view_sets_no_cookies(client: FlaskClient) -> None:
    _send()
    response = client.get("/issues/co-production-week-2026")
    assert "Set-Cookie" not in response.headers
