"""Who may move an issue along its lifecycle, and the record of who approved it.

The rules the composer enforces and the tests prove: an editor submits, only an approver approves,
and (unless NEWSLETTER_ALLOW_SELF_APPROVAL) not the issue's own author, so every issue a family
receives was read by a second person.

This module is the lifecycle's one door: every change of an issue's status is one of the functions
below, each a `store.move` (a write refused if the status changed since it was read), and every move
they make is listed in `TRANSITIONS` (newsletter/issues/models.py). tests/issues/test_lifecycle_door.py
keeps it so.
"""

from __future__ import annotations

from newsletter.accounts.models import User
from newsletter.config import Settings
from newsletter.db import utcnow
from newsletter.errors import NotAllowed
from newsletter.issues import store
from newsletter.issues.models import Issue, IssueStatus


def submit(issue: Issue) -> None:
    """A draft goes up for review (an approved issue goes back to review only by being changed)."""
    if issue.status is IssueStatus.APPROVED:
        raise store.InvalidTransition(f"issue {issue.slug!r} cannot go from approved to in_review")
    store.move(issue, IssueStatus.IN_REVIEW)


def check_may_approve(issue: Issue, user: User, settings: Settings) -> None:
    """Refuse, with the reason, a person who may not approve this issue."""
    if not user.can_approve:
        raise NotAllowed("Only an approver can approve an issue. Ask an approver on your team.")
    if issue.created_by_id == user.id and not settings.allow_self_approval:
        raise NotAllowed("You wrote this issue, so someone else on the team must approve it.")


def approve(issue: Issue, user: User, settings: Settings) -> None:
    check_may_approve(issue, user, settings)
    _approve(issue)
    issue.approved_by_id = user.id
    issue.approved_at = utcnow()


def approve_at_terminal(issue: Issue) -> None:
    """`newsletter issues approve`: someone who may run commands on the server approves.

    A draft is submitted and approved in one go; an issue already approved stays as it is. The
    terminal has no team account, so no approver is recorded.
    """
    if issue.status is not IssueStatus.APPROVED:
        _approve(issue)


def _approve(issue: Issue) -> None:
    if issue.status is IssueStatus.DRAFT:
        store.move(issue, IssueStatus.IN_REVIEW)
    store.move(issue, IssueStatus.APPROVED)


def back_to_draft(issue: Issue) -> None:
    store.move(issue, IssueStatus.DRAFT)
    _forget_approval(issue)


def changed_after_approval(issue: Issue) -> None:
    """An approved issue that is changed goes back to review: what was approved is no longer what it is."""
    store.move(issue, IssueStatus.IN_REVIEW)
    _forget_approval(issue)


def _forget_approval(issue: Issue) -> None:
    issue.approved_by_id = None
    issue.approved_at = None


# The moves the sending engine makes (newsletter/delivery/campaigns.py), each refused if another
# process moved the issue first.


def schedule(issue: Issue) -> None:
    store.move(issue, IssueStatus.SCHEDULED)


def start_sending(issue: Issue) -> None:
    store.move(issue, IssueStatus.SENDING)


def cancel_sending(issue: Issue) -> None:
    store.move(issue, IssueStatus.CANCELLED)


def mark_sent(issue: Issue) -> None:
    store.move(issue, IssueStatus.SENT)
