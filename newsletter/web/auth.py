"""Signing the team in and out, and the decorators that keep the composer behind that door.

Flask's signed session cookie holds the user id and their `session_version`; every request
re-reads the account, so a deactivated account or a changed password ends every open session at
once. The cookie is HttpOnly, SameSite=Lax, Secure whenever BASE_URL is https, and lasts a working
day. Team pages are never cached, so a shared computer's back button shows nothing after sign-out.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Blueprint, Flask, Response, abort, current_app, flash, g, redirect, request, session, url_for

from newsletter.accounts import service
from newsletter.accounts.models import User
from newsletter.db import session_scope
from newsletter.web.pages import render_team
from subscribers.ratelimit import RateLimiter

F = TypeVar("F", bound=Callable[..., Any])

auth = Blueprint("auth", __name__, url_prefix="/team")

# Per address and per connection, in this process: slows a guesser down before the account lock
# (in the database, shared by every process) stops them.
ATTEMPTS_PER_WINDOW = 10
WINDOW_SECONDS = 600


def init_auth(app: Flask) -> None:
    settings = app.config["NEWSLETTER_SETTINGS"]
    app.config.update(
        SESSION_COOKIE_NAME="newsletter_team",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.base_url.startswith("https://"),
        PERMANENT_SESSION_LIFETIME=timedelta(hours=10),
    )
    app.extensions["newsletter.login_limiter"] = RateLimiter(ATTEMPTS_PER_WINDOW, WINDOW_SECONDS)
    app.before_request(_load_user)
    app.context_processor(lambda: {"current_user": g.get("user")})
    app.register_blueprint(auth)


def _load_user() -> None:
    g.user = None
    user_id, version = session.get("user_id"), session.get("version")
    if user_id is None:
        return
    with session_scope() as db:
        user = db.get(User, user_id)
        if user is None or not user.active or user.session_version != version:
            session.clear()
            return
        db.expunge(user)
        g.user = user


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
        if not (limiter.allow("ip:" + (request.remote_addr or "?")) and limiter.allow("email:" + email.lower())):
            error = "Too many attempts. Wait 10 minutes, then try again."
        else:
            with session_scope() as db:
                result = service.authenticate(db, email, request.form.get("password", ""))
                if result.user is not None:
                    session.clear()
                    session.permanent = True
                    session["user_id"], session["version"] = result.user.id, result.user.session_version
                    return redirect(_safe_next(request.form.get("next")))
            error = ("This account is locked for 15 minutes after several wrong passwords."
                     if result.locked else "The email address or password is not right.")
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
    session.clear()
    flash("You are signed out.")
    return redirect(url_for("auth.sign_in"))
