"""What a check says, and how a set of findings is shown to the team.

Checks never raise and never print: they return `Finding`s, so the composer can list them next to
the blocks they are about, the command line can print them, and a send can be refused on errors.
An error is something that stops some readers getting the message (a screen reader user, someone
with low vision, a mail server); a warning is advice the team may choose to leave as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

Level = Literal["error", "warning"]


@dataclass(frozen=True)
class Finding:
    """One problem, written for the council officer who has to fix it.

    `code` is a short stable name (for tests, filtering and help links); `message` says what is
    wrong and how to fix it in plain words. `block` is the 1-based position of the block in the
    issue when the problem belongs to one block, so the composer can take the officer straight to it;
    it is None for problems with the whole email, the theme or the templates.
    """

    level: Level
    code: str
    message: str
    block: int | None = None


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


@dataclass(frozen=True)
class CheckReport:
    """All findings for one issue.

    `block_types` (the issue's block types in order) is optional and only used to write
    "block 3 (image)" rather than "block 3", which helps an officer find the block in a long issue.
    """

    findings: list[Finding]
    block_types: Sequence[str] = field(default=())

    @property
    def errors(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.level == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.level == "warning"]

    @property
    def ok(self) -> bool:
        """True when nothing stops the issue being sent; warnings alone do not."""
        return not self.errors

    def _where(self, finding: Finding) -> str:
        if finding.block is None:
            return ""
        index = finding.block - 1
        if 0 <= index < len(self.block_types):
            return f"block {finding.block} ({self.block_types[index]}): "
        return f"block {finding.block}: "

    def format(self) -> str:
        """A plain-text report: errors first, then warnings (each in the order found), then a count."""
        if not self.findings:
            return "No problems found."
        lines = [
            f"{finding.level:<7} [{finding.code}] {self._where(finding)}{finding.message}"
            for finding in [*self.errors, *self.warnings]
        ]
        lines.append(f"{_plural(len(self.errors), 'error')}, {_plural(len(self.warnings), 'warning')}")
        return "\n".join(lines)
