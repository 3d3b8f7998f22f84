"""All checks on one issue, as the composer's "Check" button and the send command run them.

The HTML checks run on the public copy of the email (`rendered.html.public`: personal links filled
with harmless placeholders), which is the same markup every reader gets apart from those links.
"""

from __future__ import annotations

from newsletter.checks.contrast import theme_findings
from newsletter.checks.email_html import email_html_findings
from newsletter.checks.events import event_findings
from newsletter.checks.jargon import jargon_findings
from newsletter.checks.placeholders import placeholder_findings
from newsletter.checks.polls import poll_findings
from newsletter.checks.readability import DEFAULT_MINIMUM_SCORE, readability_findings
from newsletter.checks.report import CheckReport
from newsletter.issues.blocks import IssueDocument
from newsletter.render.pipeline import RenderedIssue
from newsletter.theme import Theme


def check_issue(
    doc: IssueDocument,
    rendered: RenderedIssue,
    theme: Theme,
    message: bytes | None = None,
    readability_min: float = DEFAULT_MINIMUM_SCORE,
) -> CheckReport:
    """Theme contrast and example details, the compiled email's accessibility, the raw message's line
    lengths, the words and acronyms.

    `rendered` must come from `render_issue(doc, ...)` with the same `theme`; `message` is the
    finished MIME message when there is one (the line-length check is skipped without it).
    """
    findings = [
        *theme_findings(theme),
        *placeholder_findings(theme),
        *email_html_findings(rendered.html.public, message=message, block_count=len(doc.blocks)),
        *readability_findings(doc, minimum_score=readability_min),
        *jargon_findings(doc),
        *event_findings(doc),
        *poll_findings(doc),
    ]
    return CheckReport(findings=findings, block_types=tuple(block.type for block in doc.blocks))
