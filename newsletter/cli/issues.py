"""`newsletter issues ...`, `newsletter render` and `newsletter check`: issues from file to approval."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from newsletter.cli.environment import EXIT_PROBLEM, ensure_schema, ready, settings


@click.group()
def issues() -> None:
    """Import, export, list and publish issues."""


@issues.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--replace", is_flag=True, help="Update the draft with the same slug instead of refusing.")
def issues_import(file: Path, replace: bool) -> None:
    """Store an issue from a YAML file (images beside it are copied to the media folder)."""
    from newsletter.db import session_scope
    from newsletter.issues.service import import_issue

    current = ready()
    with session_scope() as session:
        issue, created = import_issue(session, file, current, replace=replace)
        verb = "Imported" if created else "Updated"
        click.echo(f"{verb} issue {issue.slug!r} ({len(issue.blocks)} blocks, status {issue.status.value}).")


@issues.command("export")
@click.argument("slug")
@click.option("--out", "out", type=click.Path(path_type=Path), help="Write to this file instead of the terminal.")
def issues_export(slug: str, out: Path | None) -> None:
    """Write an issue as YAML, in the same shape `issues import` reads."""
    from newsletter.db import session_scope
    from newsletter.issues import store
    from newsletter.issues.yamlio import dump_issue

    current = settings()
    with session_scope() as session:
        text = dump_issue(store.document(store.get_issue(session, slug)), current.base_url)
    if out:
        out.write_text(text, encoding="utf-8")
        click.echo(f"Wrote {out}")
    else:
        click.echo(text, nl=False)


@issues.command("list")
def issues_list() -> None:
    """Every issue with its status and date."""
    from newsletter.db import session_scope
    from newsletter.issues import store

    ready()
    with session_scope() as session:
        rows = store.list_issues(session)
        if not rows:
            click.echo("No issues yet. Import one with `newsletter issues import FILE`.")
        for issue in rows:
            when = issue.issue_date.isoformat() if issue.issue_date else "no date"
            click.echo(f"{issue.slug:40}  {issue.status.value:10}  {when}  {issue.title}")


@issues.command("publish")
@click.option("--out", "out", type=click.Path(path_type=Path), required=True, help="Folder to write the site to.")
def issues_publish(out: Path) -> None:
    """Write the web views of sent issues, the archive and the feed as static files."""
    from newsletter.db import session_scope
    from newsletter.publish import publish_site
    from newsletter.theme import get_theme

    current = settings()
    with session_scope() as session:
        written = publish_site(session, out, get_theme(), current)
    click.echo(f"Wrote {len(written)} files to {out} for {current.base_url}")


def _advance(slug: str, move: Callable[[Any], None], starts: tuple[str, ...], done: str, verb: str) -> None:
    """Make the workflow's move if the issue is in one of `starts`; succeed if it then is (or already was) `done`."""
    from newsletter.db import session_scope
    from newsletter.issues import store
    from newsletter.issues.models import IssueStatus

    with session_scope() as session:
        issue = store.get_issue(session, slug)
        if issue.status in {IssueStatus(start) for start in starts}:
            move(issue)
        if issue.status.value != done:
            raise store.InvalidTransition(f"issue {slug!r} is {issue.status.value}; it cannot be {verb}")
        click.echo(f"Issue {slug!r} is now {issue.status.value.replace('_', ' ')}.")


@issues.command("submit")
@click.argument("slug")
def issues_submit(slug: str) -> None:
    """Put a draft up for review."""
    from newsletter.issues import workflow

    _advance(slug, workflow.submit, ("draft",), "in_review", "submitted for review")


@issues.command("approve")
@click.argument("slug")
def issues_approve(slug: str) -> None:
    """Approve an issue for sending (a draft is submitted and approved in one go)."""
    from newsletter.issues import workflow

    _advance(slug, workflow.approve_at_terminal, ("draft", "in_review"), "approved", "approved")


@issues.command("preview-link")
@click.argument("slug")
def issues_preview_link(slug: str) -> None:
    """Print a signed link (valid 14 days) to the web view of an unsent issue."""
    from newsletter.db import session_scope
    from newsletter.issues import store
    from newsletter.tokens import sign
    from newsletter.web.public import PREVIEW_PURPOSE

    current = settings()
    with session_scope() as session:
        issue = store.get_issue(session, slug)
        click.echo(f"{current.base_url}/preview/{sign(PREVIEW_PURPOSE, issue.slug)}")


# --- rendering and checks ---------------------------------------------------------------------


def _load(spec: str):  # type: ignore[no-untyped-def]
    """Read FILE_OR_SLUG, render it, and build a sample message for the line-length check."""
    from newsletter.db import session_scope
    from newsletter.delivery.mime import single_copy
    from newsletter.issues.service import resolve
    from newsletter.render.pipeline import render_issue
    from newsletter.theme import get_theme

    current = settings()
    theme = get_theme()
    if Path(spec).suffix.lower() in {".yaml", ".yml"} or Path(spec).is_file():
        doc, slug = resolve(None, spec, current)
    else:
        ensure_schema(current)
        with session_scope() as session:
            doc, slug = resolve(session, spec, current)
    rendered = render_issue(doc, slug, theme, current)
    # The sample is made exactly as a reader's copy is (its links lead nowhere personal).
    message = single_copy(rendered, subject=doc.subject, from_address=current.from_address, language=doc.language,
                          domain=current.sender_domain, to="reader@example.org", name="Sample Reader",
                          links_to=f"{current.base_url}/test-link")
    return doc, slug, theme, current, rendered, message


def _report(doc, rendered, theme, current, message):  # type: ignore[no-untyped-def]
    from newsletter.checks.runner import check_issue

    return check_issue(doc, rendered, theme, message=message, readability_min=current.readability_min_score)


@click.command()
@click.argument("file_or_slug")
@click.option("--out", "out", type=click.Path(path_type=Path), required=True, help="Folder for the three files.")
def render(file_or_slug: str, out: Path) -> None:
    """Render an issue to OUT/email.html, OUT/email.txt and OUT/web.html, and check it."""
    doc, slug, theme, current, rendered, message = _load(file_or_slug)
    out.mkdir(parents=True, exist_ok=True)
    sample = {"unsubscribe_url": "#unsubscribe", "preferences_url": "#preferences", "name": "there"}
    (out / "email.html").write_text(rendered.html.fill(sample), encoding="utf-8")
    (out / "email.txt").write_text(rendered.text.fill(sample), encoding="utf-8")
    (out / "web.html").write_text(rendered.web_html, encoding="utf-8")
    (out / "message.eml").write_bytes(message)
    click.echo(f"Rendered {slug!r}:")
    for name in ("email.html", "email.txt", "web.html", "message.eml"):
        click.echo(f"  {(out / name).resolve()}")
    report = _report(doc, rendered, theme, current, message)
    click.echo("")
    click.echo(report.format())
    if not report.ok:
        sys.exit(EXIT_PROBLEM)


@click.command()
@click.argument("file_or_slug")
def check(file_or_slug: str) -> None:
    """Check an issue's accessibility and readability; exits non-zero when there are errors."""
    doc, _slug, theme, current, rendered, message = _load(file_or_slug)
    report = _report(doc, rendered, theme, current, message)
    click.echo(report.format())
    if not report.ok:
        sys.exit(EXIT_PROBLEM)
