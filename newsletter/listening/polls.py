"""Whether a poll takes answers, and its results as the web view and the composer show them.

A poll with a `closes` date takes answers until the end of that day on the team's clock
(NEWSLETTER_TIMEZONE); from the next day it is closed, refuses answers, and its results appear on
the public web view. A poll without a date never closes (the checks warn about that).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone

from newsletter import localtime
from newsletter.config import Settings
from newsletter.issues.blocks import PollBlock

OTHER_LABEL = "Something else"


def today(settings: Settings, now: datetime | None = None) -> date:
    """Today's date on the team's clock."""
    return localtime.local(now or datetime.now(timezone.utc), settings).date()


def is_closed(poll: PollBlock, on: date) -> bool:
    return poll.closes is not None and on > poll.closes


@dataclass(frozen=True)
class Result:
    label: str
    count: int
    # Whole per cent of all answers, for the bar beside the count.
    percent: int


@dataclass(frozen=True)
class PollState:
    """A poll on the web view: closed or not, and (once closed) its results."""

    closed: bool
    total: int
    results: tuple[Result, ...]


def results(poll: PollBlock, counts: dict[int | None, int]) -> tuple[int, tuple[Result, ...]]:
    """Each answer with its count, in the poll's order ("Something else" last when the poll has it)."""
    labels: list[tuple[str, int | None]] = [(answer, number) for number, answer in enumerate(poll.options)]
    if poll.other:
        labels.append((OTHER_LABEL, None))
    total = sum(counts.get(choice, 0) for _, choice in labels)
    return total, tuple(Result(label, counts.get(choice, 0), round(100 * counts.get(choice, 0) / total) if total else 0)
                        for label, choice in labels)
