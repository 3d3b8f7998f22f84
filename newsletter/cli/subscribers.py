"""`newsletter lists ...` and `newsletter subscribers ...`: the team's operations on lists and people.

Everything goes through subscribers/api.py, as the rest of the service does. Emails (confirmation
requests) are sent after the transaction that decided on them has committed.
"""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import click

from newsletter.cli.environment import ready


def _session_scope():  # type: ignore[no-untyped-def]
    from newsletter.db import session_scope

    return session_scope()


# --- lists --------------------------------------------------------------------------------------


@click.group()
def lists() -> None:
    """Create lists (topics) and see who is on them."""


@lists.command("create")
@click.argument("slug")
@click.option("--name", required=True, help='The name people see, such as "Short breaks and activities".')
@click.option("--description", default="", help="One or two sentences on what people will get; shown on the form.")
@click.option("--private", is_flag=True, help="Not offered on the public form (the team adds people).")
@click.option("--no-double-opt-in", is_flag=True, help="Start emails without a confirmation email (not advised).")
def lists_create(slug: str, name: str, description: str, private: bool, no_double_opt_in: bool) -> None:
    """Create a list with the address-safe name SLUG (such as short-breaks)."""
    from subscribers import api

    ready()
    with _session_scope() as session:
        created = api.create_list(session, slug, name, description=description, public=not private,
                                    double_opt_in=not no_double_opt_in)
        click.echo(f"Created list {created.slug!r} ({created.name}), "
                   f"{'public' if created.public else 'private'}, "
                   f"double opt-in {'on' if created.double_opt_in else 'off'}.")


@lists.command("list")
def lists_list() -> None:
    """Every list with its counts of confirmed, unconfirmed and unsubscribed people."""
    from subscribers import api

    ready()
    with _session_scope() as session:
        rows = api.all_lists(session)
        if not rows:
            click.echo("No lists yet. Create one with `newsletter lists create SLUG --name NAME`.")
            return
        counts = api.subscription_counts(session)
        status = api.SubscriptionStatus
        for lst in rows:
            c = counts[lst.id]
            click.echo(
                f"{lst.slug:30}  {'public ' if lst.public else 'private'}  "
                f"{c[status.CONFIRMED]:>8,} confirmed  {c[status.UNCONFIRMED]:>7,} unconfirmed  "
                f"{c[status.UNSUBSCRIBED]:>7,} unsubscribed  {lst.name}"
            )


@lists.command("show")
@click.argument("slug")
def lists_show(slug: str) -> None:
    """A list's settings, and counts per subscription and subscriber status."""
    from subscribers import api

    ready()
    with _session_scope() as session:
        lst = api.get_list(session, slug)
        counts = api.subscription_counts(session)[lst.id]
        people = api.subscriber_status_counts(session, lst.id)
        sendable = api.count_sendable(session, [lst.id])
        click.echo(f"{lst.name} ({lst.slug})")
        if lst.description:
            click.echo(f"  {lst.description}")
        click.echo(f"  {'Public: offered on the subscribe form' if lst.public else 'Private: not on the public form'}")
        click.echo(f"  Double opt-in: {'on' if lst.double_opt_in else 'off'}")
        click.echo("Subscriptions:")
        for status in api.SubscriptionStatus:
            click.echo(f"  {status.value:14} {counts[status]:>9,}")
        click.echo("Confirmed subscribers by status:")
        for status in api.SubscriberStatus:
            click.echo(f"  {status.value:14} {people[status]:>9,}")
        click.echo(f"Would receive an issue now: {sendable:,}")


# --- subscribers --------------------------------------------------------------------------------


@click.group("subscribers")
def subscribers() -> None:
    """Add, show, remove, import, export and erase subscribers."""


@subscribers.command("add")
@click.argument("email")
@click.option("--list", "list_slugs", multiple=True, required=True, help="The list's slug; repeat for several.")
@click.option("--name", default=None, help="Their name, used to say hello.")
@click.option("--consent", default=None,
              help='Where and how they agreed, such as "Paper form at the SEND fair, 3 May 2026". '
                   "Without it they are sent a confirmation email and get nothing until they confirm.")
def subscribers_add(email: str, list_slugs: tuple[str, ...], name: str | None, consent: str | None) -> None:
    """Add one person to one or more lists."""
    from newsletter.delivery.subscriber_mail import outgoing
    from subscribers import api

    settings = ready()
    with _session_scope() as session:
        subscriber, notice = api.add_subscriber(
            session, settings, email, api.get_lists(session, list_slugs), name=name, consent=consent
        )
        address = subscriber.email
    if notice is not None:
        api.mail_notice(settings, notice, outgoing(settings))
        click.echo(f"Added {address} as unconfirmed and sent a confirmation email; "
                   "they get nothing until they confirm.")
    else:
        click.echo(f"Added {address} to {', '.join(list_slugs)} as confirmed.")


@subscribers.command("show")
@click.argument("email")
def subscribers_show(email: str) -> None:
    """One person's details, lists and consent history."""
    from subscribers import api

    ready()
    with _session_scope() as session:
        subscriber = api.get_subscriber(session, email)
        click.echo(f"{subscriber.email}")
        click.echo(f"  Name: {subscriber.name or '(none)'}")
        click.echo(f"  Status: {subscriber.status.value}")
        click.echo(f"  Since: {subscriber.created_at:%Y-%m-%d %H:%M} UTC")
        if subscriber.attributes:
            for key, value in sorted(subscriber.attributes.items()):
                click.echo(f"  {key}: {value}")
        suppression = api.find_suppression(session, subscriber.email_hash)
        if suppression is not None:
            click.echo(f"  Suppressed: {suppression.reason.value} (since {suppression.created_at:%Y-%m-%d})")
        click.echo("Lists:")
        rows = api.subscriptions_of(session, subscriber.id)
        if not rows:
            click.echo("  (none)")
        for row, lst in rows:
            click.echo(f"  {lst.slug:30} {row.status.value:13} since {row.created_at:%Y-%m-%d}")
        click.echo("Consent log:")
        for entry, lst in api.consent_history(session, subscriber.id):
            on = f" {lst.slug}" if lst else ""
            click.echo(f"  {entry.at:%Y-%m-%d %H:%M}  {entry.action.value:11} {entry.source.value:17}{on}"
                       f"{'  - ' + entry.wording if entry.wording else ''}")


@subscribers.command("remove")
@click.argument("email")
@click.option("--list", "list_slugs", multiple=True, help="Remove from this list only; repeat for several. "
                                                           "Without it: every list.")
def subscribers_remove(email: str, list_slugs: tuple[str, ...]) -> None:
    """Unsubscribe someone (their record and consent history are kept; use `erase` to delete them)."""
    from subscribers import api

    ready()
    with _session_scope() as session:
        chosen = api.get_lists(session, list_slugs) if list_slugs else None
        changed = api.remove_subscriber(session, email, chosen)
    where = ", ".join(list_slugs) if list_slugs else "every list"
    if changed:
        click.echo(f"Unsubscribed {email.strip()} from {where}.")
    else:
        click.echo(f"{email.strip()} was not subscribed to {where}; nothing changed.")


@subscribers.command("import")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--list", "list_slugs", multiple=True, required=True, help="The list to add people to; repeatable.")
@click.option("--consent", default=None,
              help='Where these people agreed, such as "Sign-up sheet, Local Offer day 2026". Only with this are '
                   "rows marked confirmed; without it they are stored unconfirmed and never mailed an issue.")
@click.option("--map", "mappings", multiple=True, metavar="COLUMN=FIELD",
              help="Say what a column is: email, name, first_name, last_name or ignore. Repeatable.")
@click.option("--encoding", default="utf-8", show_default=True, help="The file's text encoding (Excel: cp1252).")
@click.option("--errors", "problems", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Where to write the rows that were not imported (default: FILE-problems.csv beside FILE).")
def subscribers_import(file: Path, list_slugs: tuple[str, ...], consent: str | None, mappings: tuple[str, ...],
                       encoding: str, problems: Path | None) -> None:
    """Import people from a CSV file whose first row names the columns (one must be the email)."""
    import codecs

    from subscribers import api

    mapping: dict[str, str] = {}
    for item in mappings:
        column, sep, target = item.rpartition("=")
        if not sep or not column.strip():
            raise api.ImportRefused(f"--map {item!r} must look like COLUMN=FIELD, such as --map 'Parent email=email'")
        mapping[column.strip()] = target.strip().lower()
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise api.ImportRefused(
            f"--encoding {encoding!r} is not an encoding Python knows; try utf-8 or cp1252") from None
    ready()
    with _session_scope() as session:
        targets = api.get_lists(session, list_slugs)

    def progress(report: Any) -> None:
        if report.rows and report.rows % 20_000 < 1_000:
            click.echo(f"  ... {report.rows:,} rows read", err=True)

    report = api.import_csv(file, targets, _session_scope, consent=consent, mapping=mapping, encoding=encoding,
                        problems_path=problems, progress=progress)
    if not consent:
        click.echo("No --consent given: new rows are stored unconfirmed and will not be mailed an issue.")
    for line in report.lines():
        click.echo(line)


@subscribers.command("export")
@click.option("--list", "list_slug", required=True, help="The list to export.")
@click.option("--status", type=click.Choice(["confirmed", "unconfirmed", "unsubscribed", "all"]), default="confirmed",
              show_default=True, help="Which subscriptions to include.")
@click.option("--out", "out", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write to this file instead of the terminal.")
def subscribers_export(list_slug: str, status: str, out: Path | None) -> None:
    """Write a list's subscribers as CSV (the same columns `subscribers import` reads)."""
    from subscribers import api

    statuses = list(api.SubscriptionStatus) if status == "all" else [api.SubscriptionStatus(status)]
    ready()
    with _session_scope() as session:
        lst = api.get_list(session, list_slug)
        if out is None:
            api.export_list(session, lst, sys.stdout, statuses)
            return
        with out.open("w", encoding="utf-8-sig", newline="") as handle:
            count = api.export_list(session, lst, handle, statuses)
    click.echo(f"Wrote {count:,} subscribers to {out}", err=True)


@subscribers.command("erase")
@click.argument("email")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def subscribers_erase(email: str, yes: bool) -> None:
    """Delete everything about one person (UK GDPR erasure), keeping only a one-way hash to suppress them."""
    from subscribers import api

    ready()
    if not yes:
        click.confirm(f"Erase {email.strip()} for good? This cannot be undone", abort=True)
    with _session_scope() as session:
        api.erase_email(session, email)
    click.echo(f"Erased {email.strip()}: their details are deleted and the address is suppressed (as a hash).")


@subscribers.command("process-mailbox")
@click.argument("maildir", type=click.Path(path_type=Path, file_okay=False, exists=True))
@click.option("--delete", is_flag=True, help="Delete processed messages instead of marking them read.")
def subscribers_process_mailbox(maildir: Path, delete: bool) -> None:
    """Act on emails sent to the unsubscribe+...@ addresses (the mailto: in List-Unsubscribe)."""
    from subscribers import api

    settings = ready()
    if not (maildir / "new").is_dir():
        raise api.SubscribersError(f"{maildir} is not a maildir (it has no new/ folder)")
    report = api.process_maildir(maildir, settings, _session_scope, delete=delete)
    click.echo(f"Read {report.read} messages: {report.unsubscribed} unsubscribed, "
               f"{report.already_gone} already unsubscribed or erased, {report.not_ours} not unsubscribe requests.")


@subscribers.command("purge-unconfirmed")
@click.option("--days", type=click.IntRange(min=1), default=14, show_default=True,
              envvar="NEWSLETTER_UNCONFIRMED_DAYS", show_envvar=True,
              help="Delete requests to join that were not confirmed within this many days.")
def subscribers_purge(days: int) -> None:
    """Delete unconfirmed subscriptions older than --days, and people left with nothing (run it daily)."""
    from subscribers import api

    ready()
    with _session_scope() as session:
        result = api.purge_unconfirmed(session, timedelta(days=days))
    click.echo(f"Deleted {result.subscriptions:,} unconfirmed subscriptions older than {days} days "
               f"and {result.subscribers:,} people who never confirmed.")
