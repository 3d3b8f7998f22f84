"""Who may move an issue along its lifecycle, and the record of who approved it.

The rules the composer enforces and the tests prove: an editor submits, only an approver approves,
and (unless NEWSLETTER_ALLOW_SELF_APPROVAL) not the issue's own author, so every issue a family
receives was read by a second person.
"""

from __future__ import annotations

from newsletter.accounts.models import User
from newsletter.config import Settings
from newsletter.db import utcnow
from newsletter.issues import store
from newsletter.issues.models import Issue, IssueStatus


class NotAllowed(Exception):
    pass


def submit(issue: Issue) -> None:
    store.move(issue, IssueStatus.IN_REVIEW)


def check_may_approve(issue: Issue, user: User, settings: Settings) -> None:
    """Refuse, with the reason, a person who may not approve this issue."""
    if not user.can_approve:
        raise NotAllowed("Only an approver can approve an issue. Ask an approver on your team.")
    if issue.created_by_id == user.id and not settings.allow_self_approval:
        raise NotAllowed("You wrote this issue, so someone else on the team must approve it.")


def approve(issue: Issue, user: User, settings: Settings) -> None:
    check_may_approve(issue, user, settings)
    if issue.status is IssueStatus.DRAFT:
        store.move(issue, IssueStatus.IN_REVIEW)
    store.move(issue, IssueStatus.APPROVED)
    issue.approved_by_id = user.id
    issue.approved_at = utcnow()


def back_to_draft(issue: Issue) -> None:
    store.move(issue, IssueStatus.DRAFT)
    issue.approved_by_id = None
    issue.approved_at = None
