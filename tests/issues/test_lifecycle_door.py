"""The lifecycle has one door: newsletter/issues/workflow.py.

- Only newsletter/issues/store.py writes an issue's status, and only the workflow asks it to (`store.move`,
  a write refused if the status changed since it was read), so no status change skips that check.
- Every move the workflow makes, from every status its callers use it in, is listed in `TRANSITIONS`.

Read from the source with `ast`; the moves are then made on issues that are not saved, where
`store.move` checks `TRANSITIONS` and sets the status.
"""

from __future__ import annotations

import ast
from pathlib import Path
from types import SimpleNamespace

import pytest

from newsletter.issues import workflow
from newsletter.issues.models import TRANSITIONS, Issue, IssueStatus
from tests.conftest import ROOT

S = IssueStatus
NEWSLETTER = ROOT / "newsletter"
STORE = NEWSLETTER / "issues" / "store.py"
WORKFLOW = NEWSLETTER / "issues" / "workflow.py"

# Each function of the workflow that moves an issue, and the statuses its callers call it in
# (the composer, the command line, editing.py, delivery/campaigns.py).
USES: dict[str, set[IssueStatus]] = {
    "submit": {S.DRAFT},
    "approve": {S.DRAFT, S.IN_REVIEW},
    "approve_at_terminal": {S.DRAFT, S.IN_REVIEW},
    "back_to_draft": {S.IN_REVIEW, S.APPROVED},
    "changed_after_approval": {S.APPROVED},
    "schedule": {S.APPROVED},
    "start_sending": {S.APPROVED, S.SCHEDULED},
    "cancel_sending": {S.SCHEDULED, S.SENDING},
    "mark_sent": {S.SENDING},
}


def _trees(root: Path) -> list[tuple[Path, ast.Module]]:
    return [(path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
            for path in sorted(root.rglob("*.py"))]


def _where(path: Path, node: ast.AST) -> str:
    return f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', '?')}"


def test_only_the_store_writes_an_issues_status() -> None:
    found = []
    for path, tree in _trees(NEWSLETTER):
        if path == STORE:
            continue
        for node in ast.walk(tree):
            targets = node.targets if isinstance(node, ast.Assign) else (
                [node.target] if isinstance(node, (ast.AugAssign, ast.AnnAssign)) else [])
            found += [_where(path, node) for target in targets
                      if isinstance(target, ast.Attribute) and target.attr == "status"]
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                if node.func.id == "setattr" and any(isinstance(arg, ast.Constant) and arg.value == "status"
                                                     for arg in node.args):
                    found.append(_where(path, node))
                if node.func.id == "Issue" and any(keyword.arg == "status" for keyword in node.keywords):
                    found.append(_where(path, node))
    assert found == []


def test_only_the_workflow_asks_the_store_to_move_an_issue() -> None:
    found = []
    for path, tree in _trees(NEWSLETTER):
        if path in (STORE, WORKFLOW):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").endswith("issues.store"):
                found += [_where(path, node) for alias in node.names if alias.name == "move"]
            if (isinstance(node, ast.Attribute) and node.attr == "move" and isinstance(node.value, ast.Name)
                    and node.value.id == "store"):
                found.append(_where(path, node))
    assert found == []


def _moving_functions() -> set[str]:
    """Public functions of workflow.py that call store.move, directly or through a private helper."""
    tree = ast.parse(WORKFLOW.read_text(encoding="utf-8"))
    calls = {
        function.name: {
            (node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", ""))
            for node in ast.walk(function) if isinstance(node, ast.Call)
        }
        for function in tree.body if isinstance(function, ast.FunctionDef)
    }
    moving = {name for name, called in calls.items() if "move" in called}
    while True:
        more = {name for name, called in calls.items() if called & moving} - moving
        if not more:
            return {name for name in moving if not name.startswith("_")}
        moving |= more


def test_every_function_that_moves_an_issue_is_listed_here() -> None:
    assert _moving_functions() == set(USES)


def _run(name: str, issue: Issue) -> None:
    if name == "approve":
        approver = SimpleNamespace(id=2, can_approve=True)
        workflow.approve(issue, approver, SimpleNamespace(allow_self_approval=False))  # type: ignore[arg-type]
    else:
        getattr(workflow, name)(issue)


@pytest.mark.parametrize("name, start", [(name, start) for name in USES for start in sorted(USES[name])])
def test_every_move_the_workflow_makes_is_in_transitions(name: str, start: IssueStatus,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    moves: list[tuple[IssueStatus, IssueStatus]] = []
    real_move = workflow.store.move

    def recording_move(issue: Issue, target: IssueStatus) -> None:
        moves.append((issue.status, target))
        real_move(issue, target)

    monkeypatch.setattr(workflow.store, "move", recording_move)
    issue = Issue(slug="an-issue", status=start, created_by_id=1)
    _run(name, issue)
    assert moves and all(target in TRANSITIONS[source] for source, target in moves)


def test_an_approved_issue_that_changes_goes_back_to_review_unapproved() -> None:
    issue = Issue(slug="an-issue", status=S.APPROVED, approved_by_id=2)
    workflow.changed_after_approval(issue)
    assert issue.status is S.IN_REVIEW and issue.approved_by_id is None and issue.approved_at is None


def test_submit_refuses_an_approved_issue() -> None:
    with pytest.raises(workflow.store.InvalidTransition, match="from approved to in_review"):
        workflow.submit(Issue(slug="an-issue", status=S.APPROVED))
