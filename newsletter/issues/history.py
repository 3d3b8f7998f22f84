"""Version history: every save of an issue's content is kept, with who saved it, when and what changed.

No save can skip it: a listener on every database session looks at each issue being written, and
when its content (details or blocks) differs from its last version, it adds a version in the same
transaction. So the composer's forms, a YAML import with --replace, a restore, and any path added
later all leave a version, and a save that is rolled back leaves none.

Who saved it comes from `set_actor_lookup` (the web app names the signed-in person); anywhere else,
such as a terminal, it is "command line". What changed is worked out by comparing the two versions
by block key ("Edited block 4 (contact)", "Moved block 2 down"), unless the code that saved gave its
own words with `note` (a restore does).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import JSON, ForeignKey, Integer, String, event, func, inspect, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from newsletter.accounts import models as _accounts  # noqa: F401  (the users table the foreign keys name)
from newsletter.db import Base, UTCDateTime, utcnow
from newsletter.errors import NewsletterError
from newsletter.issues import drafts, editing, store
from newsletter.issues.blocks import BLOCK_TYPES, IssueDocument
from newsletter.issues.models import Issue

COMMAND_LINE = "command line"
_CONTENT = ("title", "subject", "preheader", "language", "issue_date", "feedback", "blocks")
_DETAILS = {"title": "title", "subject": "subject", "preheader": "preview text", "language": "language",
            "date": "date", "feedback": "question “Was this newsletter useful?”"}
_NOTES = "newsletter.history.notes"


class RestoreRefused(NewsletterError):
    pass


class IssueVersion(Base):
    __tablename__ = "issue_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"), index=True)
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    saved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    # The name as it was when they saved, or "command line": kept if the account is renamed or removed.
    saved_by_name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(300))
    # The whole document: title, subject, preheader, language, date, blocks and block_keys.
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    # store.content_version of the content, so a save that changes nothing adds no version.
    fingerprint: Mapped[str] = mapped_column(String(20))

    issue: Mapped[Issue] = relationship(Issue)


# --- who saved ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    name: str


_acting: ContextVar[Actor | None] = ContextVar("newsletter_history_actor", default=None)
_lookup: list[Callable[[], Actor | None]] = []


def set_actor_lookup(lookup: Callable[[], Actor | None]) -> None:
    """How to find who is saving (the web app: the signed-in person of the current request)."""
    if lookup not in _lookup:
        _lookup.append(lookup)


@contextmanager
def acting_as(actor: Actor) -> Iterator[None]:
    token = _acting.set(actor)
    try:
        yield
    finally:
        _acting.reset(token)


def _actor() -> Actor:
    found = _acting.get()
    if found is not None:
        return found
    for lookup in _lookup:
        found = lookup()
        if found is not None:
            return found
    return Actor(None, COMMAND_LINE)


def note(session: Session, issue: Issue, description: str) -> None:
    """Say in words what the next save of `issue` in this session is (used instead of the worked-out words)."""
    session.info.setdefault(_NOTES, {})[id(issue)] = description


# --- snapshots and what changed --------------------------------------------------------------------


def snapshot(issue: Issue) -> dict[str, Any]:
    return {
        "title": issue.title, "subject": issue.subject, "preheader": issue.preheader or "",
        "language": issue.language, "date": issue.issue_date.isoformat() if issue.issue_date else None,
        "feedback": issue.feedback is not False,
        "blocks": list(issue.blocks or []), "block_keys": editing.keys_of(issue),
    }


def block_title(block: dict[str, Any]) -> str:
    return str(block.get("type", "block"))


@dataclass
class FieldDiff:
    name: str
    # ("removed" | "added" | "same", text) per line
    lines: list[tuple[str, str]]


@dataclass
class Change:
    kind: str  # "details", "added", "deleted", "edited", "moved"
    words: str
    key: str = ""
    fields: list[FieldDiff] = field(default_factory=list)


def _text(value: Any) -> str:
    if isinstance(value, list):
        return "\n".join(" | ".join(str(v) for v in item.values()) if isinstance(item, dict) else str(item)
                         for item in value)
    if isinstance(value, dict):
        return "\n".join(f"{k}: {v}" for k, v in value.items())
    return "" if value is None else str(value)


def _field_diff(name: str, before: Any, after: Any) -> FieldDiff:
    lines: list[tuple[str, str]] = []
    for line in difflib.ndiff(_text(before).splitlines(), _text(after).splitlines()):
        tag, text = line[:2], line[2:]
        if tag == "- ":
            lines.append(("removed", text))
        elif tag == "+ ":
            lines.append(("added", text))
        elif tag == "  ":
            lines.append(("same", text))
    return FieldDiff(name, lines)


def _fields_changed(before: dict[str, Any], after: dict[str, Any]) -> list[FieldDiff]:
    names = [n for n in after if n != "type"] + [n for n in before if n not in after and n != "type"]
    return [_field_diff(n, before.get(n), after.get(n)) for n in names if before.get(n) != after.get(n)]


def changes(old: dict[str, Any] | None, new: dict[str, Any]) -> list[Change]:
    """What differs between two snapshots, block by block (blocks are matched by key, so a move is a move)."""
    if old is None:
        count = len(new.get("blocks", []))
        return [Change("created", f"Created the issue with {count} block{'' if count == 1 else 's'}")]
    found: list[Change] = []
    # A version saved before the feedback setting existed had it on.
    old = {"feedback": True, **old}
    new = {"feedback": True, **new}
    details = [n for n in _DETAILS if old.get(n) != new.get(n)]
    if details:
        names = [_DETAILS[n] for n in details]
        words = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        found.append(Change("details", f"Changed the {words}",
                            fields=[_field_diff(_DETAILS[n].capitalize(), old.get(n), new.get(n)) for n in details]))
    old_keys, new_keys = list(old.get("block_keys") or []), list(new.get("block_keys") or [])
    old_blocks, new_blocks = list(old.get("blocks") or []), list(new.get("blocks") or [])
    old_at = {k: i for i, k in enumerate(old_keys[: len(old_blocks)])}
    new_at = {k: i for i, k in enumerate(new_keys[: len(new_blocks)])}
    for key, i in old_at.items():
        if key not in new_at:
            found.append(Change("deleted", f"Deleted block {i + 1} ({block_title(old_blocks[i])})", key,
                                [_field_diff(n, v, None) for n, v in old_blocks[i].items() if n != "type"]))
    for key, i in new_at.items():
        if key not in old_at:
            found.append(Change("added", f"Added block {i + 1} ({block_title(new_blocks[i])})", key,
                                [_field_diff(n, None, v) for n, v in new_blocks[i].items() if n != "type"]))
        elif old_blocks[old_at[key]] != new_blocks[i]:
            found.append(Change("edited", f"Edited block {i + 1} ({block_title(new_blocks[i])})", key,
                                _fields_changed(old_blocks[old_at[key]], new_blocks[i])))
    found.extend(_moves(old_keys, new_keys, old_at, new_at, new_blocks))
    return found


def _moves(old_keys: list[str], new_keys: list[str], old_at: dict[str, int], new_at: dict[str, int],
           new_blocks: list[dict[str, Any]]) -> list[Change]:
    before = [k for k in old_keys if k in new_at]
    after = [k for k in new_keys if k in old_at]
    if before == after:
        return []
    for key in before:  # one block taken out and put back elsewhere, as the composer's moves do
        if [k for k in before if k != key] == [k for k in after if k != key]:
            was, now = before.index(key), after.index(key)
            kind = block_title(new_blocks[new_at[key]])
            if now == was + 1:
                words = f"Moved block {old_at[key] + 1} ({kind}) down"
            elif now == was - 1:
                words = f"Moved block {old_at[key] + 1} ({kind}) up"
            else:
                words = f"Moved block {old_at[key] + 1} ({kind}) to position {new_at[key] + 1}"
            return [Change("moved", words, key)]
    return [Change("moved", "Changed the order of the blocks")]


def describe(found: list[Change]) -> str:
    if not found:
        return "Saved without changes"
    words = [c.words for c in found]
    if len(words) > 4:
        words = [*words[:3], f"and {len(words) - 3} more changes"]
    text = "; ".join(words)
    return text if len(text) <= 300 else text[:299] + "…"


# --- recording ------------------------------------------------------------------------------------


def _content_changed(issue: Issue) -> bool:
    state = inspect(issue)
    return any(state.attrs[name].history.has_changes() for name in _CONTENT)


def _latest(session: Session, issue_id: int) -> IssueVersion | None:
    with session.no_autoflush:
        return session.scalar(select(IssueVersion).where(IssueVersion.issue_id == issue_id)
                              .order_by(IssueVersion.id.desc()).limit(1))


def _record(session: Session, issue: Issue) -> None:
    fingerprint = store.content_version(issue)
    previous = _latest(session, issue.id) if issue.id is not None else None
    if previous is not None and previous.fingerprint == fingerprint:
        return
    content = snapshot(issue)
    found = changes(previous.content if previous is not None else None, content)
    words = session.info.get(_NOTES, {}).pop(id(issue), None) or describe(found)
    actor = _actor()
    session.add(IssueVersion(issue=issue, saved_at=utcnow(), saved_by_id=actor.user_id,
                             saved_by_name=actor.name[:200], description=words[:300], content=content,
                             fingerprint=fingerprint))
    if actor.user_id is not None and issue.id is not None:
        # The blocks this person just saved: their autosaved drafts of them are now in the issue.
        saved = {c.key for c in found if c.kind in ("edited", "deleted")}
        saved |= {drafts.new_block_key(str(new["type"])) for c in found if c.kind == "added"
                  for new in [content["blocks"][content["block_keys"].index(c.key)]]}
        with session.no_autoflush:
            drafts.forget_saved(session, actor.user_id, issue.id, saved)


@event.listens_for(Session, "before_flush")
def _version_every_save(session: Session, _context: Any, _instances: Any) -> None:
    for obj in [*session.new, *session.dirty]:
        if not isinstance(obj, Issue) or obj in session.deleted:
            continue
        if obj in session.new or _content_changed(obj):
            _record(session, obj)


# --- reading and restoring ------------------------------------------------------------------------


@dataclass(frozen=True)
class NumberedVersion:
    number: int
    version: IssueVersion


def versions(session: Session, issue_id: int) -> list[NumberedVersion]:
    """Every version of an issue, newest first, numbered from 1 (the oldest)."""
    found = list(session.scalars(select(IssueVersion).where(IssueVersion.issue_id == issue_id)
                                 .order_by(IssueVersion.id)))
    return [NumberedVersion(i + 1, v) for i, v in enumerate(found)][::-1]


def version(session: Session, issue_id: int, version_id: int) -> tuple[NumberedVersion, IssueVersion | None] | None:
    """One version with its number, and the one before it (None for the first)."""
    found = session.get(IssueVersion, version_id)
    if found is None or found.issue_id != issue_id:
        return None
    number = session.scalar(select(func.count()).select_from(IssueVersion).where(
        IssueVersion.issue_id == issue_id, IssueVersion.id <= version_id)) or 1
    before = session.scalar(select(IssueVersion).where(IssueVersion.issue_id == issue_id, IssueVersion.id < version_id)
                            .order_by(IssueVersion.id.desc()).limit(1))
    return NumberedVersion(number, found), before


def document(issue: Issue, content: dict[str, Any]) -> IssueDocument:
    return IssueDocument.model_validate(
        {"title": content["title"], "subject": content["subject"], "preheader": content.get("preheader", ""),
         "language": content.get("language", "en-GB"), "date": content.get("date"), "slug": issue.slug,
         "feedback": content.get("feedback", True), "blocks": content.get("blocks", [])},
        context={"stored": True},
    )


def restore(session: Session, issue: Issue, numbered: NumberedVersion) -> str | None:
    """Make the issue's content that of an earlier version; the restore itself is a new version.

    It is an edit like any other: refused once the issue is on its way out, and an approved issue goes
    back for approval. Returns the notice to show, if any.
    """
    content = numbered.version.content
    try:
        doc = document(issue, content)
    except ValidationError:
        raise RestoreRefused("This version cannot be restored: it does not pass today's checks on an issue.") from None
    if any(block.type not in BLOCK_TYPES for block in doc.blocks):
        raise RestoreRefused("This version has a kind of block the composer no longer has.")
    notice = editing.update_details(issue, editing.Details(doc.title, doc.subject, doc.preheader, doc.language,
                                                           doc.date, doc.feedback))
    blocks = [block.model_dump(mode="json", exclude_none=True) for block in doc.blocks]
    keys = list(content.get("block_keys") or [])
    if len(keys) != len(blocks) or len(set(keys)) != len(keys):
        keys = [editing.new_key() for _ in blocks]
    issue.blocks, issue.block_keys = blocks, keys
    note(session, issue, f"Restored version {numbered.number} (saved by {numbered.version.saved_by_name})")
    return notice


__all__ = ["COMMAND_LINE", "Actor", "Change", "IssueVersion", "NumberedVersion", "RestoreRefused", "acting_as",
           "changes", "describe", "note", "restore", "set_actor_lookup", "snapshot", "version", "versions"]
