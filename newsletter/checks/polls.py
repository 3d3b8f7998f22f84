"""Polls: a poll without a closing date never shows families its results.

The web view shows a poll's results only once it has closed ("you said, we did"), and answers keep
coming for as long as it is open, so a poll should say when it closes. A warning, not an error: the
team may mean to keep a question open.
"""

from __future__ import annotations

from newsletter.checks.report import Finding
from newsletter.issues.blocks import IssueDocument, PollBlock


def poll_findings(doc: IssueDocument) -> list[Finding]:
    return [
        Finding("warning", "poll-no-closing-date",
                f"The poll “{block.question}” has no last day for answers, so it never closes and families never "
                "see its results. Give it a last day.", index)
        for index, block in enumerate(doc.blocks, start=1)
        if isinstance(block, PollBlock) and block.closes is None
    ]
