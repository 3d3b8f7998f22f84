"""Fixtures for the subscribers tests: lists, a real SMTP server, the web app, and reading what was mailed.

Everything runs against real databases (the suite's `db`, SQLite and PostgreSQL) and a real SMTP
server on loopback (tests/smtp.py); nothing is mocked.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient

from newsletter.config import Settings, get_settings, reset_settings
from newsletter.db import session_scope
from newsletter.web import create_app
from tests.smtp import Received, SmtpServer


@dataclass
class Lists:
    news: int
    breaks: int
    adults: int
    private: int
    instant: int


@pytest.fixture
def lists(db: Settings) -> Lists:
    """Three public double opt-in lists, one private list and one public list without double opt-in."""
    from subscribers import store

    with session_scope() as session:
        news = store.create_list(session, "send-news", "SEND newsletter",
                                 description="News for families of children with SEND, once a month.")
        breaks = store.create_list(session, "short-breaks", "Short breaks and activities",
                                   description="Holiday clubs and activities, about twice a month.")
        adults = store.create_list(session, "adulthood", "Preparing for adulthood")
        private = store.create_list(session, "forum", "Parent carer forum members", public=False)
        instant = store.create_list(session, "events", "Events", double_opt_in=False)
        return Lists(news.id, breaks.id, adults.id, private.id, instant.id)


@pytest.fixture
def smtp(db: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpServer]:
    """A real SMTP server on loopback; the settings point NEWSLETTER_SMTP_URL at it."""
    with SmtpServer() as server:
        monkeypatch.setenv("NEWSLETTER_SMTP_URL", server.url)
        reset_settings()
        yield server
    reset_settings()


class Clock:
    """A hand-moved clock for the rate limiter: tests move time instead of sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def app(db: Settings, smtp: SmtpServer, clock: Clock) -> Flask:
    return create_app(get_settings(), {"TESTING": True, "SUBSCRIBE_RATE_CLOCK": clock})


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(client: FlaskClient, path: str) -> str:
    """GET a page with a form and return its CSRF token (the client keeps the cookie)."""
    page = client.get(path)
    assert page.status_code == 200, page.data[:500]
    match = _CSRF.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def post_form(client: FlaskClient, path: str, data: dict, form_page: str | None = None):  # type: ignore[no-untyped-def]
    token = csrf_from(client, form_page or path)
    return client.post(path, data={**data, "csrf_token": token})


def links_in(received: Received) -> list[str]:
    """Every http(s) address in the plain-text part, in order."""
    message = received.message
    text = message.get_body(preferencelist=("plain",)).get_content()
    return re.findall(r"https?://\S+", text)


def path_of(url: str, settings: Settings) -> str:
    assert url.startswith(settings.base_url), url
    return url[len(settings.base_url):]


def ticked(page: str) -> dict[str, bool]:
    """{checkbox value: ticked?} for every checkbox on an HTML page."""
    import lxml.html

    tree = lxml.html.fromstring(page)
    return {box.get("value"): box.get("checked") is not None for box in tree.xpath("//input[@type='checkbox']")}


def form_as_shown(client: FlaskClient, path: str, containing: str = "name") -> dict[str, list[str]]:
    """The fields of the form on `path` that has an input named `containing`, as a browser would send them
    untouched: hidden fields, text boxes and the ticked boxes (the client keeps the CSRF cookie)."""
    import lxml.html

    page = client.get(path)
    assert page.status_code == 200, page.data[:500]
    form = lxml.html.fromstring(page.get_data(as_text=True)).xpath(f"//form[.//input[@name='{containing}']]")[0]
    data: dict[str, list[str]] = {}
    for field in form.xpath(".//input[@name]"):
        if field.get("type") == "checkbox" and field.get("checked") is None:
            continue
        data.setdefault(field.get("name"), []).append(field.get("value") or "")
    return data


def save_preferences(client: FlaskClient, path: str, *, lists: list[int] | None = None, name: str | None = None,
                     shown: dict[str, list[str]] | None = None):  # type: ignore[no-untyped-def]
    """Post the preference form as `path` shows it (or as `shown`, a form read earlier), with the boxes
    ticked set to `lists` and the name to `name` when given."""
    data = dict(shown if shown is not None else form_as_shown(client, path))
    if lists is not None:
        data["lists"] = [str(list_id) for list_id in lists]
    if name is not None:
        data["name"] = [name]
    return client.post(path, data=data)
