"""`newsletter users ...`: accounts for the team, made at a terminal before anyone can sign in."""

from __future__ import annotations

import sys

import click

from newsletter.cli.environment import ready


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@click.group()
def users() -> None:
    """Team accounts: editors compose and test; approvers also approve, send and manage lists."""


@users.command("create")
@click.argument("email")
@click.option("--name", required=True, help="The person's name, shown beside what they approve.")
@click.option("--role", type=click.Choice(["editor", "approver"]), default="editor", show_default=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
def users_create(email: str, name: str, role: str, password_stdin: bool) -> None:
    """Create an account (the first one is usually an approver)."""
    from newsletter.accounts import service
    from newsletter.accounts.models import Role
    from newsletter.db import session_scope

    ready()
    password = _password(password_stdin)
    with session_scope() as session:
        user = service.create_user(session, email, name, password, Role(role))
        click.echo(f"Created {user.role.value} account for {user.name} <{user.email}>.")


@users.command("list")
def users_list() -> None:
    """Every account, its role and when it last signed in."""
    from newsletter.accounts import service
    from newsletter.db import session_scope

    ready()
    with session_scope() as session:
        found = service.list_users(session)
        if not found:
            click.echo("No accounts yet. Create one with `newsletter users create EMAIL --name NAME --role approver`.")
        for user in found:
            seen = user.last_login_at.strftime("%Y-%m-%d %H:%M") if user.last_login_at else "never"
            state = "" if user.active else " (deactivated)"
            click.echo(f"{user.email:40} {user.role.value:9} {user.name}{state}; last signed in {seen}")


@users.command("set-password")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
def users_set_password(email: str, password_stdin: bool) -> None:
    """Set a new password; every browser signed in as this person is signed out."""
    from newsletter.accounts import service
    from newsletter.db import session_scope

    password = _password(password_stdin)
    with session_scope() as session:
        service.set_password(session, service.find_user(session, email), password)
    click.echo(f"New password set for {email}.")


@users.command("deactivate")
@click.argument("email")
def users_deactivate(email: str) -> None:
    """Stop someone signing in (their approvals and comments stay on record)."""
    from newsletter.accounts import service
    from newsletter.db import session_scope

    with session_scope() as session:
        service.deactivate(session, service.find_user(session, email))
    click.echo(f"{email} can no longer sign in.")
