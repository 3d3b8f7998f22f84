"""Column headings are spreadsheet-safe too, in the export and in the importer's problems file.

An imported file's headings become attribute names, and those are the export's headings: a heading
such as `=HYPERLINK(...)` would run as a formula when an officer opens the export in Excel.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from newsletter.config import Settings
from newsletter.db import session_scope
from subscribers import store
from subscribers.csv_export import export_list
from subscribers.csv_import import import_csv
from tests.subscribers.conftest import Lists

CONSENT = "Signed paper form at the SEND fair, 3 May 2026"
FORMULAS = ['=HYPERLINK("http://evil.example","Click")', "+1+1", "-2+3", "@SUM(1)"]


def _file(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def _lists(slug: str):  # type: ignore[no-untyped-def]
    with session_scope() as session:
        return store.get_lists(session, [slug])


def test_export_headings_are_written_as_text_and_import_back_unchanged(
        db: Settings, lists: Lists, tmp_path: Path) -> None:
    source = _file(tmp_path / "in.csv", [["email", "name", *FORMULAS],
                                          ["jo@example.org", "Jo", "a", "b", "c", "d"]])
    import_csv(source, _lists("send-news"), session_scope, consent=CONSENT)
    out = io.StringIO()
    with session_scope() as session:
        export_list(session, store.get_list(session, "send-news"), out)
    headings = next(csv.reader(io.StringIO(out.getvalue())))
    assert headings[:5] == ["email", "name", "status", "subscribed_at", "confirmed_at"]
    assert sorted(headings[5:]) == sorted("'" + formula for formula in FORMULAS)
    assert not any(heading.startswith(("=", "+", "-", "@")) for heading in headings)

    again = import_csv(_file(tmp_path / "export.csv", list(csv.reader(io.StringIO(out.getvalue())))),
                       _lists("send-news"), session_scope, consent=CONSENT)
    assert (again.unchanged, again.updated, again.problems) == (1, 0, 0), "an export imports back unchanged"
    with session_scope() as session:
        jo = store.get_subscriber(session, "jo@example.org")
        assert jo.attributes == dict(zip(FORMULAS, "abcd"))


def test_problems_file_headings_are_written_as_text(db: Settings, lists: Lists, tmp_path: Path) -> None:
    source = _file(tmp_path / "in.csv", [["email", "=cmd|' /C calc'!A0", "-x"],
                                          ["not-an-address", "1", "2"]])
    report = import_csv(source, _lists("send-news"), session_scope, consent=CONSENT)
    assert report.problems_file is not None
    with report.problems_file.open(encoding="utf-8-sig", newline="") as handle:
        headings = next(csv.reader(handle))
    assert headings == ["email", "'=cmd|' /C calc'!A0", "'-x", "import_line", "import_problem"]
