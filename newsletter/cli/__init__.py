"""The `newsletter` command: every operation the team can run from a terminal.

One group, `main`, and a module per command group:

    issues.py       issues import, export, list, publish, submit, approve, preview-link; render; check
    sending.py      send, send-test, campaigns, bounces
    users.py        users (team accounts)
    subscribers.py  lists, subscribers
    service.py      db upgrade, serve, maintenance
    doctor.py       doctor (is the installation ready to send, and what to do if not)
    environment.py  the settings, a database ready to use, the exit statuses

Errors a person can fix (a bad setting, an invalid issue file, an unknown slug) are `NewsletterError`s
(newsletter/errors.py). They are reported here, in one place, as plain sentences with a non-zero exit,
never as a traceback. Command modules import their dependencies inside each command, so
`newsletter --help` stays quick.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from newsletter.cli import issues, sending, service, subscribers, users
from newsletter.cli.doctor import doctor
from newsletter.cli.environment import EXIT_CONFIG, EXIT_PROBLEM
from newsletter.config import SettingsError
from newsletter.errors import NewsletterError


def _report(error: NewsletterError) -> int:
    """Print the error for the person at the terminal; returns the exit status."""
    from newsletter.issues.blocks import InvalidIssue

    if isinstance(error, InvalidIssue):
        click.echo("The issue is not valid:", err=True)
        for problem in error.problems:
            click.echo(f"  - {problem}", err=True)
        return EXIT_PROBLEM
    click.echo(f"Error: {error}", err=True)
    return EXIT_CONFIG if isinstance(error, SettingsError) else EXIT_PROBLEM


class _Main(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except NewsletterError as error:
            sys.exit(_report(error))
        except Exception as error:
            from newsletter.delivery.transport import DeliveryError

            if not isinstance(error, DeliveryError):
                raise
            # Only emails sent straight from a command get here (a confirmation request): the change
            # that asked for it was committed first.
            click.echo(f"Error: the email could not be sent ({error}). What was saved is kept; try again later.",
                       err=True)
            sys.exit(EXIT_PROBLEM)


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Compose, check, preview and send the Local Offer newsletter."""


for command in (service.db, issues.issues, issues.render, issues.check, service.serve, service.maintenance,
                sending.send, sending.send_test, sending.campaigns, sending.bounces, users.users, subscribers.lists,
                subscribers.subscribers):
    main.add_command(command)
main.add_command(doctor)
