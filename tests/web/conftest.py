"""A signed-in browser for the team's pages, through Flask's test client.

`team` makes three accounts (an editor and two approvers); `as_user(name)` returns a client signed
in as that person which keeps the CSRF cookie and puts the matching token into every form it posts,
as a browser submitting our own forms does. `anonymous` is a client that has signed in as nobody.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from newsletter.accounts import service
from newsletter.accounts.models import Role
from newsletter.config import Settings
from newsletter.db import session_scope
from newsletter.web import create_app

PASSWORD = "a long enough password"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
VERSION = re.compile(r'name="version" value="([^"]+)"')


@dataclass
class Team:
    editor: str = "ed@example.org"
    approver: str = "ann@example.org"
    second_approver: str = "pat@example.org"


class TeamClient:
    def __init__(self, client: FlaskClient):
        self.client = client
        self._token: str | None = None

    def token(self) -> str:
        if self._token is None:
            page = self.client.get("/team/sign-in")
            self._token = TOKEN.search(page.get_data(as_text=True)).group(1)  # type: ignore[union-attr]
        return self._token

    def get(self, url: str, **kwargs: Any) -> TestResponse:
        return self.client.get(url, **kwargs)

    def post(self, url: str, data: dict[str, Any] | None = None, *, csrf: bool = True, **kwargs: Any) -> TestResponse:
        form = dict(data or {})
        if csrf:
            form.setdefault("csrf_token", self.token())
        return self.client.post(url, data=form, **kwargs)

    def approve(self, slug: str) -> TestResponse:
        """Press Approve as an approver does: on the issue page just read, with the version it showed."""
        page = self.get(f"/team/issues/{slug}").get_data(as_text=True)
        found = VERSION.search(page)
        return self.post(f"/team/issues/{slug}/approve", {"version": found.group(1) if found else ""})

    def sign_in(self, email: str, password: str = PASSWORD) -> TestResponse:
        return self.post("/team/sign-in", {"email": email, "password": password, "next": ""})


@pytest.fixture
def app(db: Settings) -> Flask:
    return create_app(db)


@pytest.fixture
def team(db: Settings) -> Team:
    people = Team()
    with session_scope() as session:
        service.create_user(session, people.editor, "Ed Editor", PASSWORD, Role.EDITOR)
        service.create_user(session, people.approver, "Ann Approver", PASSWORD, Role.APPROVER)
        service.create_user(session, people.second_approver, "Pat Approver", PASSWORD, Role.APPROVER)
    return people


@pytest.fixture
def as_user(app: Flask, team: Team) -> Callable[[str], TeamClient]:
    def signed_in(email: str) -> TeamClient:
        client = TeamClient(app.test_client())
        response = client.sign_in(email)
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return signed_in


@pytest.fixture
def anonymous(app: Flask) -> TeamClient:
    return TeamClient(app.test_client())
