"""The first-run page on SQLite and PostgreSQL: a set-up code from the log makes the first approver, once.

Through the real app (Flask's test client, with the CSRF cookie and token a browser sends). The race
is forced: one request holds the code's claim uncommitted while the other arrives, on both backends.
"""

from __future__ import annotations

import logging
import re
import threading
import time

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from newsletter.accounts import first_run, service
from newsletter.accounts.models import FirstRun, Role, User
from newsletter.config import Settings
from newsletter.db import session_scope
from newsletter.web import create_app

PASSWORD = "correct horse battery"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def _code(settings: Settings) -> str:
    with session_scope() as session:
        nonce = session.scalar(select(FirstRun.nonce))
    return first_run.code_for(settings.secret_key, nonce)


def _form(client: FlaskClient, **fields: str) -> dict[str, str]:
    page = client.get("/team/set-up", follow_redirects=True).get_data(as_text=True)  # sign-in once it is gone
    found = TOKEN.search(page)
    form = {"csrf_token": found.group(1) if found else "", "name": "Ann Approver", "email": "ann@example.org",
            "password": PASSWORD, "password_again": PASSWORD}
    form.update(fields)
    return form


def _users() -> list[tuple[str, Role]]:
    with session_scope() as session:
        return [(user.email, user.role) for user in session.scalars(select(User).order_by(User.id))]


def test_the_code_is_in_the_log_and_makes_the_first_approver_once(db: Settings, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="newsletter.first_run"):
        app = create_app(db)
    code = _code(db)
    assert re.fullmatch(r"[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}", code)
    assert any(code in record.getMessage() and "/team/set-up" in record.getMessage() for record in caplog.records)
    client = app.test_client()
    assert client.get("/team/").headers["Location"].endswith("/team/set-up")
    assert "Set up the first one" in client.get("/team/sign-in").get_data(as_text=True)

    # A mistake keeps what was typed (never the passwords or the code), and the code still works after.
    refused = client.post("/team/set-up", data=_form(client, code=code, password="short", password_again="short",
                                                     name="Ann Approver"))
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "at least 12 characters" in page and 'value="Ann Approver"' in page
    assert code not in page and _users() == []

    done = client.post("/team/set-up", data=_form(client, code=code.lower().replace("-", " ")))
    assert done.status_code == 302 and done.headers["Location"].endswith("/team/issues")
    assert _users() == [("ann@example.org", Role.APPROVER)]
    assert "Welcome, Ann Approver" in client.get("/team/issues").get_data(as_text=True), "signed in straight away"

    # Gone now: the page sends people to sign in, and the code does nothing more.
    stranger = app.test_client()
    assert stranger.get("/team/set-up").headers["Location"].endswith("/team/sign-in")
    again = stranger.post("/team/set-up", data=_form(stranger, code=code, email="eve@example.org"))
    assert again.status_code == 302 and again.headers["Location"].endswith("/team/sign-in")
    assert _users() == [("ann@example.org", Role.APPROVER)]
    assert stranger.get("/team/").headers["Location"].startswith("/team/sign-in")
    with session_scope() as session:
        assert first_run.open_code(session, db.secret_key) is None


def test_a_form_without_its_csrf_token_is_refused(db: Settings) -> None:
    app = create_app(db)
    client = app.test_client()
    response = client.post("/team/set-up", data=_form(client, code=_code(db), csrf_token=""))
    assert response.status_code in (400, 403) and _users() == []


def test_wrong_codes_are_slowed_down_like_wrong_passwords(db: Settings) -> None:
    app = create_app(db)
    client = app.test_client()
    for _ in range(5):
        wrong = client.post("/team/set-up", data=_form(client, code="AAAA-BBBB-CCCC"))
        assert wrong.status_code == 400 and "set-up code is not right" in wrong.get_data(as_text=True)
    # The sixth try waits, even with the right code: guessing 60 bits at this pace takes longer than the universe.
    held = client.post("/team/set-up", data=_form(client, code=_code(db)))
    assert held.status_code == 429 and "Too many wrong set-up codes" in held.get_data(as_text=True)
    assert _users() == []
    # Another client network is not held up by the guesser.
    other = app.test_client()
    fine = other.post("/team/set-up", data=_form(other, code=_code(db)), environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert fine.status_code == 302 and len(_users()) == 1


def test_two_people_at_once_make_exactly_one_account(db: Settings) -> None:
    """The first holds the code's claim, uncommitted; the second arrives meanwhile, waits, and is sent to sign in."""
    app = create_app(db)
    code = _code(db)
    claimed, release = threading.Event(), threading.Event()
    answers: dict[str, object] = {}

    def first() -> None:
        try:
            with session_scope() as session:
                first_run.create_first_approver(session, db.secret_key, code, email="ann@example.org",
                                                name="Ann Approver", password=PASSWORD)
                claimed.set()
                release.wait(30)
        except Exception as error:  # noqa: BLE001
            answers["first"] = error
            claimed.set()

    def second() -> None:
        client = app.test_client()
        form = _form(client, code=code, email="bob@example.org", name="Bob Approver")
        answers["second"] = client.post("/team/set-up", data=form)

    holder = threading.Thread(target=first)
    holder.start()
    assert claimed.wait(30) and "first" not in answers
    late = threading.Thread(target=second)
    late.start()
    time.sleep(1.0)  # the second request is now waiting on the first one's claim
    assert "second" not in answers, "the second request must wait for the first to finish"
    release.set()
    holder.join(30)
    late.join(60)
    response = answers["second"]
    assert response.status_code == 302 and response.headers["Location"].endswith("/team/sign-in")  # type: ignore[attr-defined]
    assert _users() == [("ann@example.org", Role.APPROVER)]


def test_two_posts_at_the_same_moment_make_one_account(db: Settings) -> None:
    app = create_app(db)
    code = _code(db)
    clients = [app.test_client() for _ in range(2)]
    forms = [_form(client, code=code, email=f"person{n}@example.org") for n, client in enumerate(clients)]
    barrier = threading.Barrier(2)
    statuses: list[str] = []

    def post(n: int) -> None:
        barrier.wait()
        statuses.append(clients[n].post("/team/set-up", data=forms[n]).headers.get("Location", ""))

    threads = [threading.Thread(target=post, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(location.rsplit("/team/", 1)[1] for location in statuses) == ["issues", "sign-in"]
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(User)) == 1


def test_the_command_line_way_still_works_and_closes_the_page(db: Settings) -> None:
    app = create_app(db)
    with session_scope() as session:
        service.create_user(session, "ann@example.org", "Ann Approver", PASSWORD, Role.APPROVER)
    assert app.test_client().get("/team/set-up").headers["Location"].endswith("/team/sign-in")
