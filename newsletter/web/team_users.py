"""Team members, for approvers: every account, adding one, and stopping someone signing in.

The same account functions as `newsletter users create|list|deactivate` (newsletter/accounts/service.py).
Deactivating ends every session of the account, so every browser it was signed in on is signed out
at its next request. An approver cannot deactivate themselves here, so there is always one left.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, request, session as browser_session, url_for

from newsletter.accounts import service
from newsletter.accounts.models import Role, User
from newsletter.web import pages
from newsletter.web.auth import approver_required, current_user, login_required, start_session
from newsletter.web.pages import render_team, session_scope

team_users = Blueprint("team_users", __name__, url_prefix="/team")

ROLES = {
    Role.EDITOR: "Editor: writes, checks, tests and submits issues",
    Role.APPROVER: "Approver: also approves and sends issues, and manages lists, subscribers and team members",
}
LABELS = {"name": "Name:", "email": "Email address:", "role": "Role:", "password": "Initial password:"}


def _account(session: Any, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        abort(404, description="There is no such account.")
    return user


def _users_page(values: dict[str, str], errors: dict[str, str], status: int = 200) -> tuple[str, int]:
    with session_scope() as session:
        return render_team("users.html.j2", title="Team members", people=service.list_users(session),
                           values=values, errors=errors, labels=LABELS, roles=ROLES,
                           min_password=service.MIN_PASSWORD_LENGTH), status


@team_users.route("/users")
@approver_required
def users() -> tuple[str, int]:
    return _users_page({"role": Role.EDITOR.value}, {})


@team_users.route("/users", methods=["POST"])
@approver_required
def create_user() -> Any:
    values = {name: request.form.get(name, "").strip() for name in ("name", "email", "role")}
    password = request.form.get("password", "")
    errors: dict[str, str] = {}
    # Each field is checked first so the form can point at every problem at once; create_user checks again.
    if not values["name"]:
        errors["name"] = "Enter the person's name: it is shown beside what they approve and comment."
    try:
        service.normalise_address(values["email"])
    except service.AccountError as error:
        errors["email"] = str(error)
    if values["role"] not in {role.value for role in Role}:
        errors["role"] = "Choose editor or approver."
    if len(password) < service.MIN_PASSWORD_LENGTH:
        errors["password"] = f"Enter a password of at least {service.MIN_PASSWORD_LENGTH} characters."
    if not errors:
        try:
            with session_scope() as session:
                user = service.create_user(session, values["email"], values["name"], password, Role(values["role"]))
                name, role = user.name, user.role
        except service.AccountError as error:
            errors["email"] = str(error)  # what is left after the checks above: the address has an account
    if errors:
        return _users_page(values, errors, 400)
    flash(f"Created an {role.value} account for {name}. They can sign in now.")
    return redirect(url_for("team_users.users"))


@team_users.route("/users/<int:user_id>/deactivate", methods=["POST"])
@approver_required
def deactivate(user_id: int) -> Response:
    if user_id == current_user().id:
        flash("You cannot deactivate your own account. Ask another approver.", "error")
        return redirect(url_for("team_users.users"))
    with session_scope() as session:
        user = _account(session, user_id)
        name, was_active = user.name, user.active
        if was_active:
            service.deactivate(session, user)
    flash(f"{name} can no longer sign in. What they approved and commented stays on record."
          if was_active else f"{name} was already deactivated.")
    return redirect(url_for("team_users.users"))


@team_users.route("/users/<int:user_id>/reactivate", methods=["POST"])
@approver_required
def reactivate(user_id: int) -> Response:
    with session_scope() as session:
        user = _account(session, user_id)
        service.reactivate(session, user)
        name = user.name
    flash(f"{name} can sign in again with their password.")
    return redirect(url_for("team_users.users"))


def _password_page(person: User | None, errors: dict[str, str], status: int = 200) -> tuple[str, int]:
    title = f"New password for {person.name}" if person else "Change your password"
    settings = pages.settings()
    idle = settings.session_idle_minutes
    idle_words = f"{idle // 60} hour{'s' if idle >= 120 else ''}" if idle % 60 == 0 else f"{idle} minutes"
    return render_team("user_password.html.j2", title=title, person=person, errors=errors,
                       min_password=service.MIN_PASSWORD_LENGTH, session_hours=settings.session_hours,
                       session_idle=idle_words), status


@team_users.route("/users/<int:user_id>/password", methods=["GET", "POST"])
@approver_required
def set_password(user_id: int) -> Any:
    """An approver sets a new password for someone who forgot theirs; it signs them out everywhere."""
    with session_scope() as session:
        person = _account(session, user_id)
        session.expunge(person)
    if request.method == "GET":
        return _password_page(person, {})
    try:
        with session_scope() as session:
            service.set_password(session, _account(session, user_id), request.form.get("password", ""))
    except service.AccountError as error:
        return _password_page(person, {"password": str(error)}, 400)
    if user_id == current_user().id:
        browser_session.clear()
        flash("Your password is changed. Sign in with the new one.")
        return redirect(url_for("auth.sign_in"))
    flash(f"New password set for {person.name}. They are signed out everywhere until they use it.")
    return redirect(url_for("team_users.users"))


@team_users.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password() -> Any:
    """Anyone signed in changes their own password; other browsers signed in as them are signed out."""
    if request.method == "GET":
        return _password_page(None, {})
    errors: dict[str, str] = {}
    try:
        with session_scope() as session:
            user = session.get(User, current_user().id)
            assert user is not None
            service.change_own_password(session, user, request.form.get("current", ""), request.form.get("password", ""))
            # Every session ended with the old password; this browser carries on in a new one.
            start_session(session, user)
    except service.AccountError as error:
        field = "current" if "current" in str(error) else "password"
        errors[field] = str(error)
        return _password_page(None, errors, 400)
    flash("Your password is changed.")
    return redirect(url_for("composer.issues"))
