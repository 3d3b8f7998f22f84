"""Events: what families need to know before they set out, and events that are already over.

A family with a wheelchair user, an autistic child who needs a quiet room or a parent who signs
cannot go to an event on the hope that it suits them: they need to know the access before they book.
An event without access words gets a warning (the team may know there is nothing to say, and can
write "No step-free access" instead). An event that has ended by the time the issue is checked
gets a warning too: families would read about something they can no longer go to.
"""

from __future__ import annotations

import datetime as dt

from newsletter import localtime
from newsletter.checks.report import Finding
from newsletter.events.times import span
from newsletter.issues.blocks import EventBlock, IssueDocument


def event_findings(doc: IssueDocument, now: dt.datetime | None = None) -> list[Finding]:
    now = now or dt.datetime.now(dt.timezone.utc)
    zone = localtime.zone()
    findings = []
    for index, block in enumerate(doc.blocks, start=1):
        if not isinstance(block, EventBlock):
            continue
        if not block.access:
            findings.append(Finding(
                "warning", "event-no-access",
                f"The event “{block.title}” says nothing about access. Families need to know before they go: "
                "step-free access, a quiet room, a BSL interpreter, whether it is autism-friendly. Fill in "
                "Access, even to say what there is not.", index))
        if span(block.starts, block.ends, zone).has_passed(now):
            findings.append(Finding(
                "warning", "event-passed",
                f"The event “{block.title}” is over already, so families can no longer go. Check its date, or "
                "take it out.", index))
    return findings
