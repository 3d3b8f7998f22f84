"""Finished imports, kept for the person who ran them: a JSON report and the problems CSV per import.

An import's report and problems CSV name people, so they are kept in a private folder under a random
name, shown only to the account that ran the import, and deleted after a day (KEEP_SECONDS).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import tempfile
import time
from pathlib import Path
from typing import Any

from subscribers.csv_import import ImportReport, read_problems

# A report page of problems stays readable; the downloadable CSV has every one.
PROBLEMS_KEPT = 500


class ImportReports:
    """A folder private to this process's user; anything older than KEEP_SECONDS goes when the next import starts."""

    KEEP_SECONDS = 24 * 3600
    _TOKEN = re.compile(r"^[A-Za-z0-9_-]{24}$")

    def __init__(self, folder: Path):
        self.folder = folder

    @classmethod
    def private(cls, configured: str | os.PathLike[str] | None = None) -> ImportReports:
        """The configured folder, or one under the system's temporary folder named for this user."""
        folder = Path(configured) if configured else Path(tempfile.gettempdir()) / f"newsletter-imports-{os.getuid()}"
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if folder.is_symlink() or folder.stat().st_uid != os.getuid():
            raise RuntimeError(f"{folder} belongs to another user; set IMPORT_REPORTS_DIR to a private folder")
        return cls(folder)

    def new_token(self) -> str:
        self._sweep()
        return secrets.token_urlsafe(18)

    def problems_path(self, token: str) -> Path:
        return self.folder / f"{token}-problems.csv"

    def _report_path(self, token: str) -> Path:
        return self.folder / f"{token}.json"

    def save(self, token: str, *, owner: int, slug: str, filename: str, confirmed: bool,
             report: ImportReport) -> None:
        # By line: the file lists unreadable rows as they are read and the rest batch by batch.
        problems = sorted(read_problems(report.problems_file)) if report.problems_file is not None else []
        saved = {
            "owner": owner, "list": slug, "file": filename, "confirmed": confirmed, "at": time.time(),
            "counts": {
                "rows": report.rows, "added": report.added, "new_subscribers": report.new_subscribers,
                "confirmed": report.confirmed, "unchanged": report.unchanged, "updated": report.updated,
                "not_added_back": report.not_added_back, "duplicates": report.duplicates, "invalid": report.invalid,
            },
            "problem_count": len(problems),
            "problems": problems[:PROBLEMS_KEPT],
            "has_csv": report.problems_file is not None,
        }
        self._report_path(token).write_text(json.dumps(saved), encoding="utf-8")

    def load(self, token: str, owner: int, slug: str) -> dict[str, Any] | None:
        if not self._TOKEN.match(token):
            return None
        try:
            saved: dict[str, Any] = json.loads(self._report_path(token).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if saved.get("owner") != owner or saved.get("list") != slug or time.time() - saved["at"] > self.KEEP_SECONDS:
            return None
        return saved

    def _sweep(self) -> int:
        cutoff = time.time() - self.KEEP_SECONDS
        removed = 0
        for path in self.folder.iterdir():
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
            except OSError:
                continue  # removed by another process's sweep
        return removed

    def remove_old(self) -> int:
        """Delete reports and problem files past KEEP_SECONDS, as each import does (also run daily by
        `newsletter maintenance`, so a report goes after a day even when nobody imports again)."""
        return self._sweep()


__all__ = ["PROBLEMS_KEPT", "ImportReports"]
