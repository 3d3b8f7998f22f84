"""The `newsletter` command: every operation the team can run from a terminal.

Errors a person can fix (a bad setting, an invalid issue file, an unknown slug) are printed as
plain sentences with a non-zero exit, never as a traceback.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from newsletter.config import Settings, SettingsError, get_settings

F = TypeVar("F", bound=Callable[..., Any])

EXIT_PROBLEM = 1
EXIT_CONFIG = 2


def _user_errors() -> tuple[type[Exception], ...]:
    """The project's error types whose message is written for the person at the terminal."""
    from newsletter.accounts.service import AccountError
    from newsletter.delivery.testsend import InvalidAddress
    from newsletter.headersafe import HeaderValueError
    from newsletter.issues.store import InvalidTransition, IssueNotFound, SlugTaken
    from newsletter.render.pipeline import RenderError

    return (IssueNotFound, SlugTaken, InvalidTransition, RenderError, InvalidAddress, AccountError, HeaderValueError)


def _friendly(func: F) -> F:
    """Turn the project's own error types into one clear message and an exit status.

    The error types are imported only when something went wrong, so `newsletter --help` stays quick.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except SettingsError as error:
            click.echo(f"Error: {error}", err=True)
            sys.exit(EXIT_CONFIG)
        except Exception as error:
            from newsletter.issues.blocks import InvalidIssue

            if isinstance(error, InvalidIssue):
                click.echo("The issue is not valid:", err=True)
                for problem in error.problems:
                    click.echo(f"  - {problem}", err=True)
                sys.exit(EXIT_PROBLEM)
            if isinstance(error, _user_errors()):
                click.echo(f"Error: {error}", err=True)
                sys.exit(EXIT_PROBLEM)
            raise

    return wrapper  # type: ignore[return-value]


def _settings() -> Settings:
    return get_settings()


def _ensure_schema(settings: Settings) -> None:
    """The embedded default creates its database on first use; a production database is migrated on purpose."""
    from newsletter.migrate import upgrade

    if settings.database_url.startswith("sqlite"):
        upgrade(settings.database_url)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Compose, check, preview and send the Local Offer newsletter."""


# --- database ---------------------------------------------------------------------------------


@main.group()
def db() -> None:
    """Create or upgrade the database schema."""


@db.command("upgrade")
@_friendly
def db_upgrade() -> None:
    """Apply every migration to the configured database."""
    from newsletter.migrate import current, upgrade

    settings = _settings()
    upgrade(settings.database_url)
    click.echo(f"Database is at revision {current(settings.database_url)}.")


# --- issues -----------------------------------------------------------------------------------


@main.group()
def issues() -> None:
    """Import, export, list and publish issues."""


@issues.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--replace", is_flag=True, help="Update the draft with the same slug instead of refusing.")
@_friendly
def issues_import(file: Path, replace: bool) -> None:
    """Store an issue from a YAML file (images beside it are copied to the media folder)."""
    from newsletter.db import session_scope
    from newsletter.issues.service import import_issue

    settings = _settings()
    _ensure_schema(settings)
    with session_scope() as session:
        issue, created = import_issue(session, file, settings, replace=replace)
        verb = "Imported" if created else "Updated"
        click.echo(f"{verb} issue {issue.slug!r} ({len(issue.blocks)} blocks, status {issue.status.value}).")


@issues.command("export")
@click.argument("slug")
@click.option("--out", "out", type=click.Path(path_type=Path), help="Write to this file instead of the terminal.")
@_friendly
def issues_export(slug: str, out: Path | None) -> None:
    """Write an issue as YAML, in the same shape `issues import` reads."""
    from newsletter.db import session_scope
    from newsletter.issues import store
    from newsletter.issues.yamlio import dump_issue

    settings = _settings()
    with session_scope() as session:
        text = dump_issue(store.document(store.get_issue(session, slug)), settings.base_url)
    if out:
        out.write_text(text, encoding="utf-8")
        click.echo(f"Wrote {out}")
    else:
        click.echo(text, nl=False)


@issues.command("list")
@_friendly
def issues_list() -> None:
    """Every issue with its status and date."""
    from newsletter.db import session_scope
    from newsletter.issues import store

    _ensure_schema(_settings())
    with session_scope() as session:
        rows = store.list_issues(session)
        if not rows:
            click.echo("No issues yet. Import one with `newsletter issues import FILE`.")
        for issue in rows:
            when = issue.issue_date.isoformat() if issue.issue_date else "no date"
            click.echo(f"{issue.slug:40}  {issue.status.value:10}  {when}  {issue.title}")


@issues.command("publish")
@click.option("--out", "out", type=click.Path(path_type=Path), required=True, help="Folder to write the site to.")
@_friendly
def issues_publish(out: Path) -> None:
    """Write the web views of sent issues, the archive and the feed as static files."""
    from newsletter.db import session_scope
    from newsletter.publish import publish_site
    from newsletter.theme import get_theme

    settings = _settings()
    with session_scope() as session:
        written = publish_site(session, out, get_theme(), settings)
    click.echo(f"Wrote {len(written)} files to {out} for {settings.base_url}")


def _advance(slug: str, targets: tuple[str, ...], verb: str) -> None:
    from newsletter.db import session_scope
    from newsletter.issues import store

    from newsletter.issues.models import IssueStatus

    with session_scope() as session:
        issue = store.get_issue(session, slug)
        for target in map(IssueStatus, targets):
            if issue.status is not target and target in store.TRANSITIONS[issue.status]:
                store.move(issue, target)
        if issue.status.value != targets[-1]:
            raise store.InvalidTransition(f"issue {slug!r} is {issue.status.value}; it cannot be {verb}")
        click.echo(f"Issue {slug!r} is now {issue.status.value.replace('_', ' ')}.")


@issues.command("submit")
@click.argument("slug")
@_friendly
def issues_submit(slug: str) -> None:
    """Put a draft up for review."""
    _advance(slug, ("in_review",), "submitted for review")


@issues.command("approve")
@click.argument("slug")
@_friendly
def issues_approve(slug: str) -> None:
    """Approve an issue for sending (a draft is submitted and approved in one go)."""
    _advance(slug, ("in_review", "approved"), "approved")


@issues.command("preview-link")
@click.argument("slug")
@_friendly
def issues_preview_link(slug: str) -> None:
    """Print a signed link (valid 14 days) to the web view of an unsent issue."""
    from newsletter.db import session_scope
    from newsletter.issues import store
    from newsletter.tokens import sign
    from newsletter.web.public import PREVIEW_PURPOSE

    settings = _settings()
    with session_scope() as session:
        issue = store.get_issue(session, slug)
        click.echo(f"{settings.base_url}/preview/{sign(PREVIEW_PURPOSE, issue.slug)}")


# --- rendering and checks ---------------------------------------------------------------------


def _load(spec: str):  # type: ignore[no-untyped-def]
    """Read FILE_OR_SLUG, render it, and build a sample message for the line-length check."""
    from newsletter.db import session_scope
    from newsletter.delivery.mime import single_copy
    from newsletter.issues.service import resolve
    from newsletter.render.pipeline import render_issue
    from newsletter.theme import get_theme

    settings = _settings()
    theme = get_theme()
    if Path(spec).suffix.lower() in {".yaml", ".yml"} or Path(spec).is_file():
        doc, slug = resolve(None, spec, settings)
    else:
        _ensure_schema(settings)
        with session_scope() as session:
            doc, slug = resolve(session, spec, settings)
    rendered = render_issue(doc, slug, theme, settings)
    # The sample is made exactly as a reader's copy is (its links lead nowhere personal).
    message = single_copy(rendered, subject=doc.subject, from_address=settings.from_address, language=doc.language,
                          domain=settings.sender_domain, to="reader@example.org", name="Sample Reader",
                          links_to=f"{settings.base_url}/test-link")
    return doc, slug, theme, settings, rendered, message


def _report(doc, rendered, theme, settings, message):  # type: ignore[no-untyped-def]
    from newsletter.checks.runner import check_issue

    return check_issue(doc, rendered, theme, message=message, readability_min=settings.readability_min_score)


@main.command()
@click.argument("file_or_slug")
@click.option("--out", "out", type=click.Path(path_type=Path), required=True, help="Folder for the three files.")
@_friendly
def render(file_or_slug: str, out: Path) -> None:
    """Render an issue to OUT/email.html, OUT/email.txt and OUT/web.html, and check it."""
    doc, slug, theme, settings, rendered, message = _load(file_or_slug)
    out.mkdir(parents=True, exist_ok=True)
    sample = {"unsubscribe_url": "#unsubscribe", "preferences_url": "#preferences", "name": "there"}
    (out / "email.html").write_text(rendered.html.fill(sample), encoding="utf-8")
    (out / "email.txt").write_text(rendered.text.fill(sample), encoding="utf-8")
    (out / "web.html").write_text(rendered.web_html, encoding="utf-8")
    (out / "message.eml").write_bytes(message)
    click.echo(f"Rendered {slug!r}:")
    for name in ("email.html", "email.txt", "web.html", "message.eml"):
        click.echo(f"  {(out / name).resolve()}")
    report = _report(doc, rendered, theme, settings, message)
    click.echo("")
    click.echo(report.format())
    if not report.ok:
        sys.exit(EXIT_PROBLEM)


@main.command()
@click.argument("file_or_slug")
@_friendly
def check(file_or_slug: str) -> None:
    """Check an issue's accessibility and readability; exits non-zero when there are errors."""
    doc, _slug, theme, settings, rendered, message = _load(file_or_slug)
    report = _report(doc, rendered, theme, settings, message)
    click.echo(report.format())
    if not report.ok:
        sys.exit(EXIT_PROBLEM)


# --- the service ------------------------------------------------------------------------------


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@_friendly
def serve(host: str, port: int) -> None:
    """Start the web app (public web views, archive and feed)."""
    from newsletter.bootstrap import first_start
    from newsletter.web import create_app

    settings = _settings()
    settings.refuse_development_secret_off_loopback()
    for line in first_start(settings):
        click.echo(line)
    app = create_app(settings)
    if settings.redis_url is None:
        # The embedded default: no Celery workers, so this process sends scheduled and running campaigns.
        from newsletter.delivery.embedded import start_background

        start_background(settings)
        where = "the SMTP server" if settings.smtp_url else f"the outbox folder {settings.outbox_dir}"
        click.echo(f"Sending in this process (no NEWSLETTER_REDIS_URL); mail goes to {where}.")
    click.echo(f"Serving on http://{host}:{port}/ (press Ctrl+C to stop)")
    from waitress import serve as waitress_serve

    from newsletter.web.limits import largest_limit

    # Waitress keeps a request's whole body before the app sees it (up to 1 GB by default): anything larger
    # than the largest page limit is refused by waitress itself, unread.
    waitress_serve(app, host=host, port=port, threads=8, ident="newsletter",
                   max_request_body_size=largest_limit(settings))


def _register_commands() -> None:
    from newsletter.accounts.cli import register as register_accounts
    from newsletter.delivery.cli import register as register_delivery

    register_delivery(main)
    register_accounts(main, _friendly)


_register_commands()

from subscribers.cli import lists, subscribers as subscribers_group  # noqa: E402

main.add_command(lists)
main.add_command(subscribers_group)

if __name__ == "__main__":  # pragma: no cover
    main()
