"""Team sign-in as an attacker would try it: copied cookies, long-lived sessions, guessing and lockouts.

Sessions are rows on the server (accounts/sessions.py), so signing out ends a copy of the cookie too;
wrong passwords slow one address from one client (accounts/throttle.py) and never lock the account.
Both run on SQLite and PostgreSQL through the real app; time is moved by editing stored timestamps.
"""

from __future__ import annotations

import re
import statistics
import threading
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from newsletter.accounts import service, throttle
from newsletter.accounts.models import SignInThrottle, TeamSession
from newsletter.config import Settings
from newsletter.db import Base, engine_for, session_scope, utcnow
from newsletter.models import load_all
from newsletter.web.ratelimit import RateLimiter

from tests.web.conftest import PASSWORD, Team, TeamClient

COOKIE = "newsletter_team"


def _copy_of(client: TeamClient, app: Flask) -> FlaskClient:
    """Another browser holding the same session cookie, as someone who copied it would."""
    cookie = client.client.get_cookie(COOKIE)
    assert cookie is not None
    thief = app.test_client()
    thief.set_cookie(COOKIE, cookie.value, domain=cookie.domain)
    return thief


def _signed_in(client: FlaskClient | TeamClient) -> bool:
    return client.get("/team/issues").status_code == 200


# --- sessions (issue 9, item 6) ------------------------------------------------------------------------


def test_a_cookie_copied_before_sign_out_is_refused_after_it(app: Flask, as_user: Callable[[str], TeamClient],
                                                            team: Team) -> None:
    editor = as_user(team.editor)
    thief = _copy_of(editor, app)
    assert _signed_in(thief), "a copy works while the session lasts"
    editor.post("/team/sign-out")
    assert not _signed_in(editor)
    assert not _signed_in(thief), "sign-out ended the session on the server, not only in this browser"


def test_a_cookie_forged_with_the_secret_opens_nothing(app: Flask, team: Team) -> None:
    with session_scope() as db:
        user_id = service.find_user(db, team.approver).id
    forger = app.test_client()
    signer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    forger.set_cookie(COOKIE, signer.dumps({"user_id": user_id, "version": 1}), domain="localhost")
    assert not _signed_in(forger)
    forger.set_cookie(COOKIE, signer.dumps({"session": "a-made-up-token"}), domain="localhost")
    assert not _signed_in(forger)


def test_sign_out_everywhere_ends_every_session_of_that_account_only(app: Flask, as_user: Callable[[str], TeamClient],
                                                                     team: Team) -> None:
    laptop, phone, colleague = as_user(team.editor), as_user(team.editor), as_user(team.approver)
    page = laptop.get("/team/account/password").get_data(as_text=True)
    assert "Sign out everywhere" in page and "at most 12 hours" in page and "after 2 hours" in page
    response = laptop.post("/team/sign-out-everywhere")
    assert response.status_code == 302 and response.headers["Location"].endswith("/team/sign-in")
    assert not _signed_in(laptop) and not _signed_in(phone)
    assert _signed_in(colleague)
    assert "signed out on every computer and phone" in laptop.get("/team/sign-in").get_data(as_text=True)


def _age_sessions(email: str, *, signed_in: timedelta, last_seen: timedelta) -> None:
    now = utcnow()
    with session_scope() as db:
        user_id = service.find_user(db, email).id
        db.execute(update(TeamSession).where(TeamSession.user_id == user_id)
                   .values(created_at=now - signed_in, last_seen_at=now - last_seen))


def test_sessions_end_when_idle_and_at_their_absolute_lifetime(as_user: Callable[[str], TeamClient], team: Team) -> None:
    editor = as_user(team.editor)
    _age_sessions(team.editor, signed_in=timedelta(hours=11, minutes=50), last_seen=timedelta(minutes=110))
    assert _signed_in(editor), "busy and within the working day"
    with session_scope() as db:
        seen = db.scalar(select(TeamSession.last_seen_at))
    assert seen is not None and utcnow() - seen < timedelta(minutes=1), "each request renews the idle time"
    _age_sessions(team.editor, signed_in=timedelta(hours=12, minutes=1), last_seen=timedelta(seconds=5))
    assert not _signed_in(editor), "used a moment ago, but signed in more than 12 hours ago"

    editor = as_user(team.editor)
    _age_sessions(team.editor, signed_in=timedelta(hours=3), last_seen=timedelta(hours=2, minutes=1))
    assert not _signed_in(editor), "two hours without a request"
    with session_scope() as db:
        assert db.scalars(select(TeamSession)).all() == [], "ended sessions are deleted"


def test_the_lifetimes_are_settings(app: Flask, db: Settings, as_user: Callable[[str], TeamClient], team: Team) -> None:
    app.config["NEWSLETTER_SETTINGS"] = db.model_copy(update={"session_idle_minutes": 30, "session_hours": 4})
    editor = as_user(team.editor)
    _age_sessions(team.editor, signed_in=timedelta(hours=1), last_seen=timedelta(minutes=31))
    assert not _signed_in(editor)
    editor = as_user(team.editor)
    _age_sessions(team.editor, signed_in=timedelta(hours=4, seconds=1), last_seen=timedelta(0))
    assert not _signed_in(editor)


def test_a_new_password_or_deactivation_ends_sessions(app: Flask, as_user: Callable[[str], TeamClient],
                                                      team: Team) -> None:
    here, elsewhere = as_user(team.editor), as_user(team.editor)
    thief = _copy_of(here, app)
    changed = here.post("/team/account/password", {"current": PASSWORD, "password": "another long password"})
    assert changed.status_code == 302
    assert _signed_in(here), "this browser carries on in a new session"
    assert not _signed_in(elsewhere) and not _signed_in(thief), "even a copy of this browser's old cookie"
    approver = as_user(team.approver)
    with session_scope() as db:
        editor_id = service.find_user(db, team.editor).id
    assert approver.post(f"/team/users/{editor_id}/deactivate").status_code == 302
    assert not _signed_in(here)


def test_migration_makes_the_tables_the_models_describe(db: Settings) -> None:
    load_all()
    with engine_for(db.database_url).connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    ours = {"users", "team_sessions", "sign_in_throttles"}
    assert [entry for entry in diff if ours & set(re.findall(r"'(\w+)'", repr(entry)))] == []
    assert ours <= set(Base.metadata.tables)


# --- guessing passwords (issue 9, item 7) --------------------------------------------------------------


def _attempt(app: Flask, email: str, password: str, client: str) -> tuple[int, str]:
    """One sign-in from `client` (an IP address); the page with the parts that differ anyway made alike."""
    browser = TeamClient(app.test_client())
    response = browser.client.post("/team/sign-in", data={"email": email, "password": password, "next": "",
                                                          "csrf_token": browser.token()},
                                   environ_base={"REMOTE_ADDR": client})
    page = response.get_data(as_text=True).replace(email, "EMAIL")
    return response.status_code, re.sub(r'(name="csrf_token" value|name="csrf-token" content)="[^"]+"', "", page)


@pytest.fixture
def unlimited(app: Flask) -> Flask:
    """The per-client limit in memory would stop these tests before the throttle they are about."""
    app.extensions["newsletter.login_limiter"] = RateLimiter(100_000, 600)
    return app


def test_answers_are_the_same_for_known_and_unknown_addresses_all_the_way(unlimited: Flask, team: Team) -> None:
    for step in range(8):
        known = _attempt(unlimited, team.editor, f"wrong {step}", "198.51.100.7")
        unknown = _attempt(unlimited, "nobody@example.org", f"wrong {step}", "198.51.100.7")
        assert known == unknown, f"attempt {step + 1} tells the two apart"
        assert known[0] == 400
        expected = "not right" if step < throttle.FREE_FAILURES else "Too many wrong passwords"
        assert expected in known[1], (step, known[1][:300])
    # The right password is not even checked while the pair must wait, and says the same as for nobody.
    assert _attempt(unlimited, team.editor, PASSWORD, "198.51.100.7")[1] == \
        _attempt(unlimited, "nobody@example.org", PASSWORD, "198.51.100.7")[1]


def _median_seconds(action: Callable[[], object], tries: int = 5) -> float:
    times = []
    for _ in range(tries):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def test_answers_take_about_the_same_time_known_unknown_or_waiting(unlimited: Flask, team: Team) -> None:
    for _ in range(throttle.FREE_FAILURES):
        _attempt(unlimited, team.approver, "guess", "198.51.100.9")
    clients = iter(f"203.0.113.{n}" for n in range(1, 250))
    known = _median_seconds(lambda: _attempt(unlimited, team.editor, "wrong", next(clients)))
    unknown = _median_seconds(lambda: _attempt(unlimited, "nobody@example.org", "wrong", next(clients)))
    waiting = _median_seconds(lambda: _attempt(unlimited, team.approver, PASSWORD, "198.51.100.9"))
    # Before, a locked account answered about 60 times faster than an unknown address (no argon2 at all).
    fastest, slowest = min(known, unknown, waiting), max(known, unknown, waiting)
    assert slowest < 3 * fastest, (known, unknown, waiting)


def _let_the_wait_pass() -> None:
    with session_scope() as db:
        db.execute(update(SignInThrottle).values(wait_until=utcnow() - timedelta(seconds=1)))


def test_a_stranger_cannot_keep_a_team_member_out(unlimited: Flask, team: Team) -> None:
    waits = []
    for _ in range(10):  # a patient stranger, waiting out each delay
        _attempt(unlimited, team.editor, "guess", "198.51.100.66")
        with session_scope() as db:
            waits.append(throttle.seconds_to_wait(db, team.editor, "198.51.100.66"))
        _let_the_wait_pass()
    assert [round(wait, -1) for wait in waits] == [0, 0, 0, 0, 30, 60, 120, 240, 480, 900]
    _attempt(unlimited, team.editor, "guess", "198.51.100.66")
    status, page = _attempt(unlimited, team.editor, PASSWORD, "198.51.100.66")
    assert status == 400 and "Wait 15 minutes" in page, "the right password from there must wait too"
    assert _attempt(unlimited, team.editor, PASSWORD, "203.0.113.20")[0] == 302, "the real person, from their desk"
    assert _attempt(unlimited, team.editor, PASSWORD, "2001:db8:1:2::99")[0] == 302
    # The wait runs out by itself; a right password then starts the count again.
    _let_the_wait_pass()
    assert _attempt(unlimited, team.editor, PASSWORD, "198.51.100.66")[0] == 302
    with session_scope() as db:
        assert db.scalars(select(SignInThrottle)).all() == []


def test_waits_grow_and_addresses_are_grouped_sensibly() -> None:
    waits = [throttle.wait_after(n).total_seconds() for n in range(1, 12)]
    assert waits == [0, 0, 0, 0, 30, 60, 120, 240, 480, 900, 900]
    # One IPv6 home or phone network is a /64: hopping addresses inside it does not escape the wait.
    assert throttle.client_network("2001:db8:1:2::99") == throttle.client_network("2001:db8:1:2:ffff::1")
    assert throttle.client_network("2001:db8:1:2::99") != throttle.client_network("2001:db8:1:3::99")
    assert throttle.client_network("::ffff:198.51.100.7") == "198.51.100.7"


def test_failures_from_several_processes_all_count(db: Settings) -> None:
    """Several gunicorn workers record failures for one pair at once: none is lost (one atomic upsert)."""
    barrier = threading.Barrier(8)
    problems: list[BaseException] = []

    def fail() -> None:
        try:
            barrier.wait()
            with session_scope() as session:
                throttle.record_failure(session, "ann@example.org", "198.51.100.7")
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            problems.append(error)

    threads = [threading.Thread(target=fail) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert problems == []
    with session_scope() as session:
        assert session.scalar(select(SignInThrottle.failures)) == 8
        assert throttle.seconds_to_wait(session, "ANN@example.org ", "198.51.100.7") > 0
        assert throttle.seconds_to_wait(session, "ann@example.org", "198.51.100.8") == 0
