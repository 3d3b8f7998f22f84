"""What the composer does to an issue's blocks: add, change, move, delete, one block at a time.

Every change is validated as a single block first (so the form can say which field is wrong) and
keeps `Issue.block_keys` in step with `Issue.blocks`. Changing an issue that was already approved
sends it back for approval: what was approved must be what goes out.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from newsletter.errors import NewsletterError
from newsletter.issues import store, workflow
from newsletter.issues.blocks import BLOCK_TYPES, Block, IssueDocument, parse_issue, plain_message
from newsletter.issues.models import Issue, IssueStatus
from pydantic import TypeAdapter

_ONE_BLOCK: TypeAdapter[Any] = TypeAdapter(Block)
EDITABLE = (IssueStatus.DRAFT, IssueStatus.IN_REVIEW, IssueStatus.APPROVED)


class BlockInvalid(NewsletterError):
    """A block form failed validation: `fields` maps each field name to what is wrong with it."""

    def __init__(self, fields: dict[str, str]):
        self.fields = fields
        super().__init__("; ".join(f"{name}: {message}" for name, message in fields.items()))


class NotEditable(NewsletterError):
    pass


class UnknownBlock(NewsletterError):
    pass


def new_key() -> str:
    return secrets.token_urlsafe(6)


def keys_of(issue: Issue) -> list[str]:
    """The issue's block keys, made whole if the blocks were set without them (an older row, an import)."""
    keys = list(issue.block_keys or [])[: len(issue.blocks)]
    keys += [new_key() for _ in range(len(issue.blocks) - len(keys))]
    if keys != issue.block_keys:
        issue.block_keys = keys
    return keys


# A link inside a block (contact, social) names its parts as the form shows them.
_LINK_PARTS = {"label": "words", "url": "address", "network": "network"}
# What one item of a list field is called in a message ("answer 3: is too long").
_ITEM_NAMES = {"options": "answer"}


def _field_errors(error: ValidationError) -> dict[str, str]:
    fields: dict[str, str] = {}
    for item in error.errors():
        # loc is (type, field, ...) for a field, or (type,) for a check across fields.
        loc = list(item["loc"][1:])
        message = plain_message(item)
        if not loc and ": " in message:
            name, message = message.split(": ", 1)
            loc = [name]
        where = ""
        if len(loc) == 2 and isinstance(loc[1], int) and str(loc[0]) in _ITEM_NAMES:  # "answer 3: is too long"
            where = f"(the {_ITEM_NAMES[str(loc[0])]} on line {loc[1] + 1}) "
        elif len(loc) >= 2 and isinstance(loc[1], int):  # links 2 url: "link 3: the address must be ..."
            part = _LINK_PARTS.get(str(loc[2]), "link") if len(loc) > 2 else ""
            if part and message == "is required":
                where, message = "", f"link {loc[1] + 1} needs its {part}"
            else:
                where = f"link {loc[1] + 1}: " + (f"the {part} " if part else "")
        fields.setdefault(str(loc[0]) if loc else "block", f"{where}{message}")
    return fields


def validate_block(raw: dict[str, Any]) -> dict[str, Any]:
    """The block as stored (JSON-ready, no empty optional fields), or BlockInvalid naming the fields."""
    if raw.get("type") not in BLOCK_TYPES:
        raise BlockInvalid({"type": f"unknown block type; use one of {', '.join(BLOCK_TYPES)}"})
    try:
        block = _ONE_BLOCK.validate_python(raw)
    except ValidationError as error:
        raise BlockInvalid(_field_errors(error)) from None
    return block.model_dump(mode="json", exclude_none=True)


def _touch(issue: Issue) -> str | None:
    """Refuse changes to an issue that is on its way out; an approved one goes back for approval."""
    if issue.status not in EDITABLE:
        raise NotEditable(f"This issue is {issue.status.value.replace('_', ' ')} and can no longer be changed.")
    if issue.status is IssueStatus.APPROVED:
        try:
            workflow.changed_after_approval(issue)
        except store.InvalidTransition as error:  # sent or cancelled by someone else since it was read
            raise NotEditable(str(error)) from None
        return "The issue changed after it was approved, so it needs approving again."
    return None


def _index(issue: Issue, key: str) -> int:
    try:
        return keys_of(issue).index(key)
    except ValueError:
        raise UnknownBlock(f"This block no longer exists in {issue.slug!r}; someone may have deleted it.") from None


def block_at(issue: Issue, key: str) -> dict[str, Any]:
    return issue.blocks[_index(issue, key)]


def add_block(issue: Issue, raw: dict[str, Any], position: int | None = None) -> tuple[str, str | None]:
    """Insert a validated block at `position` (the end by default); returns its new key and any notice."""
    block = validate_block(raw)
    keys = keys_of(issue)
    notice = _touch(issue)
    where = len(issue.blocks) if position is None else max(0, min(position, len(issue.blocks)))
    key = new_key()
    issue.blocks = [*issue.blocks[:where], block, *issue.blocks[where:]]
    issue.block_keys = [*keys[:where], key, *keys[where:]]
    return key, notice


def replace_block(issue: Issue, key: str, raw: dict[str, Any]) -> str | None:
    block = validate_block(raw)
    index = _index(issue, key)
    notice = _touch(issue)
    blocks = list(issue.blocks)
    blocks[index] = block
    issue.blocks = blocks
    return notice


def move_block(issue: Issue, key: str, to: int) -> str | None:
    """Move a block to position `to` (0-based, clamped); moving to where it is changes nothing."""
    index = _index(issue, key)
    to = max(0, min(to, len(issue.blocks) - 1))
    if to == index:
        return None
    notice = _touch(issue)
    blocks, keys = list(issue.blocks), list(keys_of(issue))
    blocks.insert(to, blocks.pop(index))
    keys.insert(to, keys.pop(index))
    issue.blocks, issue.block_keys = blocks, keys
    return notice


def delete_block(issue: Issue, key: str) -> str | None:
    index = _index(issue, key)
    notice = _touch(issue)
    keys = keys_of(issue)
    issue.blocks = [*issue.blocks[:index], *issue.blocks[index + 1:]]
    issue.block_keys = [*keys[:index], *keys[index + 1:]]
    return notice


@dataclass(frozen=True)
class Details:
    title: str
    subject: str
    preheader: str = ""
    language: str = "en-GB"
    date: date | None = None
    # End the issue with "Was this newsletter useful?"; None leaves it as it is (on for a new issue).
    feedback: bool | None = None


def validate_details(details: Details) -> IssueDocument:
    """The issue's top-level fields checked as the issue format checks them (InvalidIssue names the field)."""
    return parse_issue({"title": details.title, "subject": details.subject, "preheader": details.preheader,
                        "language": details.language, "date": details.date,
                        "feedback": True if details.feedback is None else details.feedback, "blocks": []})


def update_details(issue: Issue, details: Details) -> str | None:
    doc = validate_details(details)
    notice = _touch(issue)
    issue.title, issue.subject, issue.preheader = doc.title, doc.subject, doc.preheader
    issue.language, issue.issue_date = doc.language, doc.date
    if details.feedback is not None:
        issue.feedback = details.feedback
    return notice


def create_draft(session: Session, details: Details, author_id: int | None) -> Issue:
    doc = validate_details(details)
    issue = store.create_issue(session, doc)
    issue.created_by_id = author_id
    return issue


def duplicate(session: Session, issue: Issue, author_id: int | None) -> Issue:
    """Next month's issue from this one: same blocks, a new draft with its own slug and no history."""
    doc = store.document(issue).model_copy(update={"slug": None, "date": None, "title": f"{issue.title} (copy)"})
    copy = store.create_issue(session, doc)
    copy.created_by_id = author_id
    keys_of(copy)
    return copy


def delete_draft(session: Session, issue: Issue) -> None:
    if issue.status is not IssueStatus.DRAFT:
        raise NotEditable("Only a draft can be deleted; cancel an issue instead.")
    session.delete(issue)
