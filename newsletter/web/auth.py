"""Signing the team in and out, and the decorators that keep the composer behind that door.

Flask's signed cookie holds only a random session token; the session itself is a row on the server
(accounts/sessions.py), re-read on every request, so signing out, "sign out everywhere", a changed
password or a deactivated account ends it at once, even for a copy of the cookie. A session ends
after NEWSLETTER_SESSION_IDLE_MINUTES without a request and NEWSLETTER_SESSION_HOURS after sign-in.
The cookie is HttpOnly, SameSite=Lax and Secure whenever BASE_URL is https. Team pages are never
cached, so a shared computer's back button shows nothing after sign-out.

Wrong passwords slow down that address from that client (accounts/throttle.py, in the database for
every process); a per-client limit in this process's memory also caps how many addresses one client
can try. The answers and their timing are the same whether or not an account exists.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Blueprint, Flask, Response, abort, current_app, flash, g, redirect, request, session, url_for
from sqlalchemy.orm import Session

from newsletter.accounts import service, sessions
from newsletter.accounts.models import User
from newsletter.web import pages
from newsletter.web.pages import render_team, session_scope
from newsletter.web.ratelimit import RateLimiter

F = TypeVar("F", bound=Callable[..., Any])

auth = Blueprint("auth", __name__, url_prefix="/team")

# Per client, in this process: one client trying many addresses. Per address and client, the database's
# throttle takes over (accounts/throttle.py).
ATTEMPTS_PER_WINDOW = 10
WINDOW_SECONDS = 600
WRONG = "The email address or password is not right."


def init_auth(app: Flask) -> None:
    settings = app.config["NEWSLETTER_SETTINGS"]
    app.config.update(
        SESSION_COOKIE_NAME="newsletter_team",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.base_url.startswith("https://"),
        # The browser forgets the cookie when the session could no longer work anyway; the server decides.
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.session_hours),
    )
    app.extensions["newsletter.login_limiter"] = RateLimiter(ATTEMPTS_PER_WINDOW, WINDOW_SECONDS)
    app.before_request(_load_user)
    app.context_processor(lambda: {"current_user": g.get("user")})
    app.register_blueprint(auth)


def _lifetimes() -> dict[str, timedelta]:
    settings = pages.settings()
    return {"idle": timedelta(minutes=settings.session_idle_minutes), "lifetime": timedelta(hours=settings.session_hours)}


def _load_user() -> None:
    g.user = None
    token = session.get("session")
    if not isinstance(token, str):
        if "user_id" in session:  # a cookie from before sessions were kept on the server
            session.clear()
        return
    with session_scope() as db:
        user = sessions.resume(db, token, **_lifetimes())
        if user is None:
            session.clear()
            return
        db.expunge(user)
        g.user = user


def start_session(db: Session, user: User) -> None:
    """Sign this browser in as `user` with a new session (a new token, so an old cookie cannot be reused)."""
    sessions.remove_expired(db, **_lifetimes())
    session.clear()
    session.permanent = True
    session["session"] = sessions.start(db, user)


def current_user() -> User:
    user = g.get("user")
    if user is None:
        abort(401)
    return user


def login_required(view: F) -> F:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if g.get("user") is None:
            if request.method == "GET":
                with session_scope() as db:
                    if not service.has_users(db):  # a new install: the first-run page (web/first_run.py)
                        return redirect(url_for("first_run.page"))
                return redirect(url_for("auth.sign_in", next=request.full_path.rstrip("?")))
            abort(401)
        response = current_app.make_response(view(*args, **kwargs))
        response.headers["Cache-Control"] = "no-store"
        return response

    return wrapper  # type: ignore[return-value]


def approver_required(view: F) -> F:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_user().can_approve:
            abort(403, description="Only an approver can do this. Ask an approver on your team.")
        return view(*args, **kwargs)

    return login_required(wrapper)  # type: ignore[return-value]


def _safe_next(target: str | None) -> str:
    """Only a path on this site: a link that signs someone in must not then send them elsewhere."""
    if not target or not target.startswith("/") or target.startswith("//") or urlsplit(target).netloc:
        return url_for("composer.issues")
    return target


@auth.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> Any:
    if g.get("user") is not None and request.method == "GET":
        return redirect(_safe_next(request.args.get("next")))
    error = None
    email = request.form.get("email", "").strip()
    if request.method == "POST":
        limiter: RateLimiter = current_app.extensions["newsletter.login_limiter"]
        if not limiter.allow("ip:" + (request.remote_addr or "?")):
            error = "Too many attempts. Wait 10 minutes, then try again."
        else:
            with session_scope() as db:
                result = service.authenticate(db, email, request.form.get("password", ""), request.remote_addr)
                if result.user is not None:
                    start_session(db, result.user)
                    return redirect(_safe_next(request.form.get("next")))
            error = WRONG
            if result.wait_seconds:
                minutes = -(-result.wait_seconds // 60)
                error = (f"Too many wrong passwords for this email address from here. Wait {minutes} "
                         f"minute{'s' if minutes != 1 else ''}, then try again.")
    with session_scope() as db:
        no_accounts = not service.has_users(db)
    response = current_app.make_response(render_team(
        "sign_in.html.j2", title="Sign in", error=error, email=email, next=request.values.get("next", ""),
        no_accounts=no_accounts,
    ))
    response.headers["Cache-Control"] = "no-store"
    return response, 200 if error is None else 400


@auth.route("/sign-out", methods=["POST"])
def sign_out() -> Response:
    token = session.get("session")
    if isinstance(token, str):
        with session_scope() as db:
            sessions.end(db, token)
    session.clear()
    flash("You are signed out.")
    return redirect(url_for("auth.sign_in"))


@auth.route("/sign-out-everywhere", methods=["POST"])
@login_required
def sign_out_everywhere() -> Response:
    """For a lost phone or a computer left signed in: every session of this account ends, this one too."""
    with session_scope() as db:
        sessions.end_all(db, current_user().id)
    session.clear()
    flash("You are signed out on every computer and phone. Sign in again to carry on.")
    return redirect(url_for("auth.sign_in"))
