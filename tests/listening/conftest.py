"""An issue that went out, with "Was this newsletter useful?" and two polls (one open, one closed), and the
links a reader finds in it."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient

from newsletter.config import Settings
from newsletter.db import session_scope, utcnow
from newsletter.issues import store
from newsletter.issues.blocks import parse_issue
from newsletter.issues.models import IssueStatus
from newsletter.issues.service import rendered
from newsletter.theme import get_theme

SLUG = "summer-news"
OPEN_POLL = {"type": "poll", "question": "Which day suits you for coffee mornings?",
             "options": ["Monday morning", "Friday morning"], "other": True, "closes": "2099-12-31"}
CLOSED_POLL = {"type": "poll", "question": "Did you come to the SEND fair?", "options": ["Yes", "No"],
               "closes": "2020-01-31"}
HREF = re.compile(r'href="([^"]*/answer/[^"]+)"')


@dataclass(frozen=True)
class Links:
    useful: str
    not_useful: str
    # The open poll's links: Monday, Friday, Something else.
    poll: tuple[str, ...]
    closed_poll: tuple[str, ...]


def make_issue(status: IssueStatus = IssueStatus.SENT, slug: str = SLUG, feedback: bool = True) -> int:
    doc = parse_issue({"title": "Summer news", "subject": "Summer news from the Local Offer", "slug": slug,
                       "feedback": feedback,
                       "blocks": [{"type": "text", "markdown": "Hello [[name]], here is the summer news."},
                                  OPEN_POLL, CLOSED_POLL]})
    with session_scope() as session:
        issue = store.create_issue(session, doc)
        issue.status = status
        if status is IssueStatus.SENT:
            issue.sent_at = utcnow()
        session.flush()
        return issue.id


def reader_links(settings: Settings, slug: str = SLUG) -> Links:
    """The answer links of the issue, as every reader's email has them."""
    with session_scope() as session:
        html = rendered(store.get_issue(session, slug), get_theme(), settings).html.public
    found = [link.replace("&amp;", "&") for link in HREF.findall(html)]
    assert len(found) == 7, found
    return Links(found[5], found[6], tuple(found[:3]), tuple(found[3:5]))


@pytest.fixture
def issue_id(db: Settings) -> int:
    return make_issue()


@pytest.fixture
def links(db: Settings, issue_id: int) -> Links:
    return reader_links(db)


@pytest.fixture
def app(db: Settings) -> Flask:
    from newsletter.web import create_app

    return create_app(db)


@pytest.fixture
def reader(app: Flask) -> FlaskClient:
    return app.test_client()


def path(url: str) -> str:
    """The part of an address the test client asks for."""
    return "/" + url.split("://", 1)[1].split("/", 1)[1]
