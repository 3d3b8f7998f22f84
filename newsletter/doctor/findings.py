"""What a doctor check says: a level, the check's name and a message saying what to do."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

Level = Literal["error", "warning", "ok"]


@dataclass(frozen=True)
class Finding:
    """`error`: something will not work (mail refused, links broken, nothing sent) and `newsletter
    doctor` exits non-zero; `warning`: works, but should be looked at; `ok`: checked and fine."""

    level: Level
    check: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def ok(check: str, message: str) -> Finding:
    return Finding("ok", check, message)


def warning(check: str, message: str) -> Finding:
    return Finding("warning", check, message)


def error(check: str, message: str) -> Finding:
    return Finding("error", check, message)


__all__ = ["Finding", "Level", "error", "ok", "warning"]
