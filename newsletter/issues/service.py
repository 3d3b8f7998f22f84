"""What the CLI and the web app do with issues, so neither builds its own queries or file handling."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.issues import store
from newsletter.issues.blocks import IssueDocument
from newsletter.issues.models import Issue, IssueStatus
from newsletter.issues.yamlio import read_issue_file
from newsletter.render.pipeline import RenderedIssue, render_issue
from newsletter.theme import Theme


def import_issue(session: Session, path: Path, settings: Settings, *, replace: bool = False) -> tuple[Issue, bool]:
    """Store an issue file; returns (issue, created). With `replace`, a draft of the same slug is updated."""
    doc = read_issue_file(path, settings.media_dir)
    existing = store.find_issue(session, doc.slug) if doc.slug else None
    if existing is not None:
        if not replace:
            raise store.SlugTaken(
                f"an issue with the slug {doc.slug!r} already exists; use --replace to update its draft"
            )
        return store.update_issue(session, existing, doc), False
    return store.create_issue(session, doc), True


def resolve(session: Session | None, spec: str, settings: Settings) -> tuple[IssueDocument, str]:
    """A FILE_OR_SLUG argument: an existing file is read, anything else is looked up by slug."""
    path = Path(spec)
    if path.suffix.lower() in {".yaml", ".yml"} or path.is_file():
        doc = read_issue_file(path, settings.media_dir)
        return doc, doc.slug or store.slugify(doc.title)
    if session is None:
        raise store.IssueNotFound(spec)
    issue = store.get_issue(session, spec)
    return store.document(issue), issue.slug


def rendered(issue: Issue, theme: Theme, settings: Settings) -> RenderedIssue:
    return render_issue(store.document(issue), issue.slug, theme, settings)


def is_public(issue: Issue) -> bool:
    return issue.status in (IssueStatus.SENT, IssueStatus.SENDING)
