"""Passwords and accounts from the composer: set a forgotten password, change your own, reactivate."""

from __future__ import annotations

from collections.abc import Callable

from newsletter.accounts import service
from newsletter.db import session_scope

from tests.web.conftest import PASSWORD, Team, TeamClient


def _user_id(email: str) -> int:
    with session_scope() as session:
        return service.find_user(session, email).id


def test_an_approver_sets_a_forgotten_password_and_the_old_sessions_end(
        as_user: Callable[[str], TeamClient], anonymous: TeamClient, team: Team) -> None:
    editor, approver = as_user(team.editor), as_user(team.approver)
    page = approver.get(f"/team/users/{_user_id(team.editor)}/password")
    assert page.status_code == 200 and "Ed Editor" in page.get_data(as_text=True)
    short = approver.post(f"/team/users/{_user_id(team.editor)}/password", {"password": "short"})
    assert short.status_code == 400 and "at least 12 characters" in short.get_data(as_text=True)
    assert approver.post(f"/team/users/{_user_id(team.editor)}/password",
                         {"password": "a brand new password"}).status_code == 302
    assert editor.get("/team/issues").status_code == 302, "signed out everywhere"
    assert anonymous.sign_in(team.editor, "a brand new password").status_code == 302
    assert editor.get(f"/team/users/{_user_id(team.approver)}/password").status_code == 302
    assert as_user(team.approver).get("/team/users").status_code == 200


def test_an_editor_cannot_set_someone_elses_password(as_user: Callable[[str], TeamClient], team: Team) -> None:
    editor = as_user(team.editor)
    assert editor.post(f"/team/users/{_user_id(team.approver)}/password",
                       {"password": "taking over the account"}).status_code == 403
    assert editor.post(f"/team/users/{_user_id(team.approver)}/reactivate").status_code == 403


def test_change_your_own_password_needs_the_current_one(as_user: Callable[[str], TeamClient],
                                                        team: Team) -> None:
    here, elsewhere = as_user(team.editor), as_user(team.editor)
    wrong = here.post("/team/account/password", {"current": "not it", "password": "another long password"})
    assert wrong.status_code == 400 and "current password is not right" in wrong.get_data(as_text=True)
    done = here.post("/team/account/password", {"current": PASSWORD, "password": "another long password"})
    assert done.status_code == 302
    assert here.get("/team/issues").status_code == 200, "this browser stays signed in"
    assert elsewhere.get("/team/issues").status_code == 302, "other browsers are signed out"


def test_reactivate_a_deactivated_account(as_user: Callable[[str], TeamClient], anonymous: TeamClient,
                                          team: Team) -> None:
    approver = as_user(team.approver)
    approver.post(f"/team/users/{_user_id(team.editor)}/deactivate")
    assert anonymous.sign_in(team.editor).status_code == 400
    assert "Reactivate" in approver.get("/team/users").get_data(as_text=True)
    approver.post(f"/team/users/{_user_id(team.editor)}/reactivate")
    assert anonymous.sign_in(team.editor).status_code == 302
