"""`newsletter db`, `newsletter serve` and `newsletter maintenance`: the database, the running service and
what it forgets."""

from __future__ import annotations

from pathlib import Path

import click

from newsletter.cli.environment import EXIT_PROBLEM, ready, settings


@click.group()
def db() -> None:
    """Create, upgrade, back up and restore the database."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply every migration to the configured database."""
    from newsletter.migrate import current, upgrade

    url = settings().database_url
    upgrade(url)
    click.echo(f"Database is at revision {current(url)}.")


@db.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def db_backup(file: Path) -> None:
    """Copy the embedded SQLite database to FILE, safely while the service runs (PostgreSQL: use pg_dump)."""
    from newsletter.backup import backup

    made = backup(settings(), file)
    click.echo(f"Backed up the database to {made}. Keep the media folder and NEWSLETTER_SECRET_KEY with it.")


@db.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace the database even while the service has it open.")
def db_restore(file: Path, force: bool) -> None:
    """Replace the embedded SQLite database with the backup FILE and bring it up to date (PostgreSQL: pg_restore)."""
    from newsletter.backup import restore

    done = restore(settings(), file, force=force)
    if done.kept is not None:
        click.echo(f"The database it replaced is kept at {done.kept}.")
    moved = "" if done.revision_before == done.revision_after else f", upgraded from {done.revision_before}"
    click.echo(f"Restored {file} (schema {done.revision_after}{moved}). Start the service again if it was stopped.")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
def serve(host: str, port: int) -> None:
    """Start the web app (public web views, archive and feed)."""
    from newsletter.bootstrap import first_start
    from newsletter.web import create_app

    current = settings()
    current.refuse_development_secret_off_loopback()
    for line in first_start(current):
        click.echo(line)
    app = create_app(current)
    if current.redis_url is None:
        # The embedded default: no Celery workers, so this process sends scheduled and running campaigns.
        from newsletter.delivery.embedded import start_background

        start_background(current)
        where = "the SMTP server" if current.smtp_url else f"the outbox folder {current.outbox_dir}"
        click.echo(f"Sending in this process (no NEWSLETTER_REDIS_URL); mail goes to {where}.")
    click.echo(f"Serving on http://{host}:{port}/ (press Ctrl+C to stop)")
    from waitress import serve as waitress_serve

    from newsletter.web.limits import largest_limit

    # Waitress keeps a request's whole body before the app sees it (up to 1 GB by default): anything larger
    # than the largest page limit is refused by waitress itself, unread.
    waitress_serve(app, host=host, port=port, threads=8, ident="newsletter",
                   max_request_body_size=largest_limit(current))


@click.command()
def maintenance() -> None:
    """Forget what is past its keeping time (run daily by the beat tick and by `newsletter serve`; safe to run any time)."""
    from newsletter.maintenance import run_jobs

    current = ready()
    failed = False
    for outcome in run_jobs(current):
        if outcome.error:
            failed = True
            click.echo(f"Could not finish: {outcome.job} (nothing of it was changed; the log says why).", err=True)
        else:
            click.echo(f"{outcome.count:>8,}  {outcome.job}")
    if failed:
        raise SystemExit(EXIT_PROBLEM)
