"""The first-run page, `/team/set-up`: the first approver, made in the browser (newsletter/accounts/first_run.py).

There only while no account exists; afterwards it sends people to sign in. Protected by the set-up
code from the server's log, the app-wide CSRF check, and two limits on guessing: per client in this
process (as sign-in), and per client network in the database for every process (as wrong passwords).
The code is random (60 bits) and compared in constant time. Nothing typed is lost: a form with a
mistake comes back with what was typed, except the passwords and the code, which are never echoed.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Flask, current_app, flash, redirect, request, url_for
from sqlalchemy.exc import SQLAlchemyError

from newsletter.accounts import first_run, service
from newsletter.config import Settings
from newsletter.db import session_scope as database_session
from newsletter.web import pages
from newsletter.web.auth import start_session
from newsletter.web.pages import render_team, session_scope
from newsletter.web.ratelimit import RateLimiter

log = logging.getLogger("newsletter.first_run")
set_up = Blueprint("first_run", __name__, url_prefix="/team")

LABELS = {"code": "Set-up code:", "name": "Your name:", "email": "Email address:", "password": "Password:",
          "password_again": "Password again:"}
ATTEMPTS_PER_WINDOW = 10
WINDOW_SECONDS = 600


def announce(app: Flask, settings: Settings) -> None:
    """Print the set-up code in the server's log at start while no account exists (every web process does,
    with the same code). A database not yet migrated says so and the app starts anyway."""
    app.extensions["newsletter.set_up_limiter"] = RateLimiter(ATTEMPTS_PER_WINDOW, WINDOW_SECONDS)
    try:
        with database_session(settings.database_url) as session:
            code = first_run.open_code(session, settings.secret_key)
    except SQLAlchemyError:
        log.warning("The database is not ready (run `newsletter db upgrade`); no set-up code yet.")
        return
    if code is not None:
        log.warning("No team account yet. Open %s/team/set-up and enter the set-up code %s to make the first "
                    "approver (or run `newsletter users create EMAIL --name NAME --role approver`).",
                    settings.base_url, code)


def _closed() -> Any:
    return redirect(url_for("auth.sign_in"))


def _check(values: dict[str, str], password: str, again: str) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not values["code"].strip():
        errors["code"] = "Enter the set-up code from the server's log."
    if not values["name"]:
        errors["name"] = "Enter your name: it is shown beside what you approve and comment."
    try:
        service.normalise_address(values["email"])
    except service.AccountError as error:
        errors["email"] = str(error)
    if len(password) < service.MIN_PASSWORD_LENGTH:
        errors["password"] = f"Enter a password of at least {service.MIN_PASSWORD_LENGTH} characters."
    elif password != again:
        errors["password_again"] = "Type the same password twice."
    return errors


def _page(values: dict[str, str], errors: dict[str, str], status: int = 200) -> tuple[str, int]:
    return render_team("set_up.html.j2", title="Set up the newsletter", values=values, errors=errors,
                       labels=LABELS, min_password=service.MIN_PASSWORD_LENGTH), status


@set_up.route("/set-up", methods=["GET"])
def page() -> Any:
    with session_scope() as session:
        if not first_run.is_open(session):
            return _closed()
    return _page({"code": "", "name": "", "email": ""}, {})


@set_up.route("/set-up", methods=["POST"])
def submit() -> Any:
    values = {name: request.form.get(name, "").strip() for name in ("code", "name", "email")}
    password, again = request.form.get("password", ""), request.form.get("password_again", "")
    client = request.remote_addr
    with session_scope() as session:
        if not first_run.is_open(session):
            flash("The first account has already been made. Sign in, or ask that person for an account.")
            return _closed()
        wait = first_run.seconds_to_wait(session, client)
    limiter: RateLimiter = current_app.extensions["newsletter.set_up_limiter"]
    if wait or not limiter.allow("ip:" + (client or "?")):
        minutes = max(1, -(-wait // 60)) if wait else WINDOW_SECONDS // 60
        values["code"] = ""
        return _page(values, {"code": f"Too many wrong set-up codes from here. Wait {minutes} minute"
                                      f"{'s' if minutes != 1 else ''}, then try again."}, 429)
    errors = _check(values, password, again)
    if errors:
        return _page(values, errors, 400)
    try:
        with session_scope() as session:
            user = first_run.create_first_approver(session, pages.settings().secret_key, values["code"],
                                                   email=values["email"], name=values["name"], password=password)
            start_session(session, user)
            name = user.name
    except first_run.WrongCode as wrong:
        with session_scope() as session:
            first_run.record_wrong_code(session, client)
        values["code"] = ""
        return _page(values, {"code": str(wrong)}, 400)
    except first_run.SetUpClosed as closed:
        flash(str(closed))
        return _closed()
    except service.AccountError as refused:
        return _page(values, {"email": str(refused)}, 400)
    log.info("The first approver account was made on the set-up page.")
    flash(f"Welcome, {name}. Your approver account is ready and you are signed in. Add your team under "
          "Team members, and put your council's details on Theme and footer.")
    return redirect(url_for("composer.issues"))


__all__ = ["announce", "set_up"]
