"""CSV import and export: streaming, header mapping, dedupe, per-row problems, idempotence, clear refusals."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from sqlalchemy import func, select

from newsletter.config import Settings
from newsletter.db import session_scope
from subscribers import api, erasure, membership, store
from subscribers.csv_export import export_list
from subscribers.csv_import import import_csv, problems_path_for
from subscribers.errors import ImportRefused
from subscribers.models import ConsentAction, ConsentEntry, ConsentSource, MailingList, Subscriber, SubscriptionStatus
from tests.subscribers.conftest import Lists

CONSENT = "Signed paper form at the SEND fair, 3 May 2026"


def _lists(*slugs: str) -> list[MailingList]:
    with session_scope() as session:
        return store.get_lists(session, slugs)


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def _counts() -> tuple[int, int, int]:
    with session_scope() as session:
        return (session.scalar(select(func.count()).select_from(Subscriber)),
                session.scalar(select(func.count()).select_from(store.Subscription)),
                session.scalar(select(func.count()).select_from(ConsentEntry)))


def _problems(report_path: Path) -> list[dict[str, str]]:
    with report_path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


MESSY = (
    "Email Address,First name,Surname,Postcode,Child's school\r\n"
    "jo.bloggs@example.org,Jo,Bloggs,AB1 2CD,Hill School\r\n"          # line 2
    "  SAM@Example.ORG ,Sam,,,\r\n"                                      # line 3
    "not-an-address,Bad,Row,,\r\n"                                       # line 4
    "Jo.Bloggs@EXAMPLE.org,Jo,Again,,\r\n"                               # line 5: same as line 2
    "\r\n"                                                               # line 6: blank, ignored
    "\"amina@example.org\",\"Amina\",\"Ahmed\",\"AB3\r\n4EF\",\"A school, with a comma\"\r\n"  # lines 7-8
    "lee@example,Lee,,,\r\n"                                              # line 9
    "ok@example.org,Too,Many,Fields,Here,Extra\r\n"                       # line 10
    "'=cmd@example.org,Formula,,,\r\n"                                    # line 11
)


def test_import_maps_headers_validates_and_reports_by_line(db: Settings, lists: Lists, tmp_path: Path) -> None:
    source = _write(tmp_path / "families.csv", MESSY)
    report = import_csv(source, _lists("send-news"), session_scope, consent=CONSENT)
    assert report.rows == 8, "the blank line is not a row"
    assert report.added == 4 and report.new_subscribers == 4
    assert (report.duplicates, report.invalid) == (1, 3)
    assert report.problems_file == problems_path_for(source)
    problems = _problems(report.problems_file)
    by_line = {row["import_line"]: row["import_problem"] for row in problems}
    assert by_line["4"].startswith("The email address is not valid")
    assert by_line["5"] == "same address as line 2 (skipped)"
    assert "period" in by_line["9"]
    assert by_line["10"] == "the row has 6 values but the header has 5 columns (extra: 'Extra')"
    assert list(problems[0].keys())[:2] == ["Email Address", "First name"], "the original columns, ready to fix"
    assert "line 4:" in "\n".join(report.lines())

    with session_scope() as session:
        jo = store.get_subscriber(session, "jo.bloggs@example.org")
        assert jo.name == "Jo Bloggs" and jo.attributes == {"Postcode": "AB1 2CD", "Child's school": "Hill School"}
        assert store.get_subscriber(session, "sam@example.org").name == "Sam"
        amina = store.get_subscriber(session, "amina@example.org")
        assert amina.attributes["Postcode"] == "AB3\r\n4EF" and amina.attributes["Child's school"] == "A school, with a comma"
        assert store.find_subscriber(session, "=cmd@example.org") is not None, "the spreadsheet's apostrophe is removed"
        assert store.find_subscriber(session, "ok@example.org") is None
        entries = session.scalars(select(ConsentEntry).where(ConsentEntry.subscriber_id == jo.id)).all()
        assert [(e.action, e.source, e.wording) for e in entries] == [(ConsentAction.CONFIRM, ConsentSource.IMPORT, CONSENT)]
        assert entries[0].detail == {"file": "families.csv", "line": 2}
        assert api.count_sendable(session, [lists.news]) == 4
    assert import_csv(source, _lists("send-news"), session_scope, consent=CONSENT).unchanged == 4


def test_formula_looking_address_round_trips_through_protection(db: Settings, lists: Lists, tmp_path: Path) -> None:
    """A leading apostrophe that a spreadsheet added before = + - @ is removed on import."""
    source = _write(tmp_path / "f.csv", "email\r\n'-dash@example.org\r\n")
    report = import_csv(source, _lists("send-news"), session_scope, consent=CONSENT)
    assert report.added == 1
    with session_scope() as session:
        assert store.find_subscriber(session, "-dash@example.org") is not None


def test_reimport_is_idempotent(db: Settings, lists: Lists, tmp_path: Path) -> None:
    source = _write(tmp_path / "families.csv", MESSY)
    import_csv(source, _lists("send-news"), session_scope, consent=CONSENT)
    before = _counts()
    again = import_csv(source, _lists("send-news"), session_scope, consent=CONSENT)
    assert _counts() == before, "a second import writes nothing new, not even consent lines"
    assert (again.added, again.unchanged, again.invalid, again.duplicates) == (0, 4, 3, 1)


def test_without_consent_rows_are_unconfirmed_and_never_mailed(db: Settings, lists: Lists, tmp_path: Path) -> None:
    source = _write(tmp_path / "f.csv", "email,name\r\na@example.org,A\r\nb@example.org,B\r\n")
    report = import_csv(source, _lists("send-news", "short-breaks"), session_scope)
    assert report.added == 2
    with session_scope() as session:
        statuses = {row.status for row in session.scalars(select(store.Subscription))}
        assert statuses == {SubscriptionStatus.UNCONFIRMED}
        assert list(api.sendable_recipients(session, [lists.news, lists.breaks])) == []
    # Importing again with the consent source stated confirms them.
    later = import_csv(source, _lists("send-news"), session_scope, consent=CONSENT)
    assert later.confirmed == 2
    with session_scope() as session:
        assert api.count_sendable(session, [lists.news]) == 2
        assert api.count_sendable(session, [lists.breaks]) == 0


def test_people_who_left_or_were_erased_are_not_brought_back(db: Settings, lists: Lists, tmp_path: Path) -> None:
    for email in ("left@example.org", "gone@example.org", "erased@example.org", "bounced@example.org"):
        with session_scope() as session:
            person, _ = store.get_or_create_subscriber(session, email)
            membership.add_confirmed(session, person, store.lists_by_id(session, [lists.news])[0],
                                     source=ConsentSource.ADMIN, wording="x")
    with session_scope() as session:
        membership.leave(session, store.get_subscriber(session, "left@example.org"), [lists.news],
                         source=ConsentSource.ONE_CLICK)
        membership.leave_everything(session, store.get_subscriber(session, "gone@example.org"),
                                    source=ConsentSource.PREFERENCE_CENTRE)
        erasure.erase_email(session, "erased@example.org")
        api.suppress(session, "bounced@example.org", "hard_bounce", "bounce")
    source = _write(tmp_path / "old.csv", "email\r\nleft@example.org\r\ngone@example.org\r\nERASED@example.org\r\n"
                                          "bounced@example.org\r\nnew@example.org\r\n")
    report = import_csv(source, _lists("send-news"), session_scope, consent=CONSENT)
    assert (report.added, report.not_added_back) == (1, 4)
    reasons = {row["email"]: row["import_problem"] for row in _problems(report.problems_file)}
    assert "unsubscribed from 'SEND newsletter'" in reasons["left@example.org"]
    assert "unsubscribed from all our emails" in reasons["gone@example.org"]
    assert "asked for their details to be erased" in reasons["ERASED@example.org"]
    assert "bounced" in reasons["bounced@example.org"]
    with session_scope() as session:
        assert store.find_subscriber(session, "erased@example.org") is None
        assert {r.email for r in api.sendable_recipients(session, [lists.news])} == {"new@example.org"}


def test_duplicates_across_batches_are_reported(db: Settings, lists: Lists, tmp_path: Path) -> None:
    rows = "".join(f"reader{n}@example.org\r\n" for n in range(7)) + "READER1@example.org\r\n"
    source = _write(tmp_path / "f.csv", "email\r\n" + rows)
    report = import_csv(source, _lists("send-news"), session_scope, consent=CONSENT, batch_size=3)
    assert (report.added, report.duplicates) == (7, 1)
    assert _problems(report.problems_file)[0]["import_line"] == "9"


@pytest.mark.parametrize("text, encoding, words", [
    ("email,name\r\njo@example.org,Zoë\r\nsam@example.org,Siân\r\n", "cp1252", "line 2 has a byte (0xEB)"),
    ("name,postcode\r\nJo,AB1\r\n", "utf-8", "has no email column. Its columns are: 'name', 'postcode'"),
    ("", "utf-8", "is empty"),
    ("email,Email address\r\njo@example.org,jo@example.org\r\n", "utf-8", "look like the email column"),
    ("email,name,name\r\njo@example.org,a,b\r\n", "utf-8", "appears twice"),
])
def test_unusable_files_are_refused_whole(db: Settings, lists: Lists, tmp_path: Path, text: str, encoding: str,
                                          words: str) -> None:
    source = _write(tmp_path / "bad.csv", text, encoding)
    with pytest.raises(ImportRefused) as error:
        import_csv(source, _lists("send-news"), session_scope, consent=CONSENT)
    assert words in str(error.value)
    assert _counts() == (0, 0, 0), "nothing is imported half-way"
    assert not problems_path_for(source).exists()


def test_broken_encoding_late_in_a_big_file_imports_nothing(db: Settings, lists: Lists, tmp_path: Path) -> None:
    good = "".join(f"reader{n}@example.org,Reader\r\n" for n in range(3000))
    source = tmp_path / "late.csv"
    source.write_bytes(b"email,name\r\n" + good.encode() + b"late@example.org,Ren\xe9e\r\n")
    with pytest.raises(ImportRefused, match="line 3002 .*--encoding cp1252"):
        import_csv(source, _lists("send-news"), session_scope, consent=CONSENT)
    assert _counts() == (0, 0, 0)
    report = import_csv(source, _lists("send-news"), session_scope, consent=CONSENT, encoding="cp1252")
    assert report.added == 3001
    with session_scope() as session:
        assert store.get_subscriber(session, "late@example.org").name == "Renée"


def test_excel_workbooks_and_unclosed_quotes_are_refused(db: Settings, lists: Lists, tmp_path: Path) -> None:
    workbook = tmp_path / "list.xlsx"
    workbook.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    with pytest.raises(ImportRefused, match="Excel workbook"):
        import_csv(workbook, _lists("send-news"), session_scope)
    with pytest.raises(ImportRefused, match="there is no file"):
        import_csv(tmp_path / "missing.csv", _lists("send-news"), session_scope)
    csv.field_size_limit()
    broken = _write(tmp_path / "quote.csv", "email,name\r\njo@example.org,\"Jo\r\n" + "x" * 140_000)
    with pytest.raises(ImportRefused, match="line 2 cannot be read as CSV"):
        import_csv(broken, _lists("send-news"), session_scope)
    assert _counts() == (0, 0, 0)


def test_excel_flavours_bom_semicolons_and_mapping(db: Settings, lists: Lists, tmp_path: Path) -> None:
    source = tmp_path / "excel.csv"
    source.write_bytes("\ufeffContact;Forename;Surname;Notes\r\njo@example.org;Jo;Bloggs;x\r\n".encode("utf-8"))
    with pytest.raises(ImportRefused, match="--map 'COLUMN=email'"):
        import_csv(source, _lists("send-news"), session_scope, consent=CONSENT)
    with pytest.raises(ImportRefused, match="not Contacts"):
        import_csv(source, _lists("send-news"), session_scope, mapping={"Contact": "Contacts"})
    with pytest.raises(ImportRefused, match="does not have: Nope"):
        import_csv(source, _lists("send-news"), session_scope, mapping={"Nope": "email"})
    report = import_csv(source, _lists("send-news"), session_scope, consent=CONSENT,
                        mapping={"Contact": "email", "Notes": "ignore"})
    assert report.added == 1
    with session_scope() as session:
        jo = store.get_subscriber(session, "jo@example.org")
        assert jo.name == "Jo Bloggs" and jo.attributes == {}


def test_export_round_trips_and_protects_formulas(db: Settings, lists: Lists, tmp_path: Path) -> None:
    source = _write(tmp_path / "in.csv", "email,name,Postcode\r\njo@example.org,=HYPERLINK(\"http://x\"),AB1\r\n"
                                         "sam@example.org,Sam,\r\n")
    import_csv(source, _lists("send-news"), session_scope, consent=CONSENT)
    out = io.StringIO()
    with session_scope() as session:
        count = export_list(session, store.get_list(session, "send-news"), out)
    assert count == 2
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert list(rows[0].keys()) == ["email", "name", "status", "subscribed_at", "confirmed_at", "Postcode"]
    assert rows[0]["name"] == "'=HYPERLINK(\"http://x\")", "a formula is written as text"
    assert rows[0]["status"] == "confirmed" and rows[1]["Postcode"] == ""
    exported = _write(tmp_path / "export.csv", out.getvalue())
    again = import_csv(exported, _lists("send-news"), session_scope, consent=CONSENT)
    assert (again.unchanged, again.updated, again.problems) == (2, 0, 0), "an export imports back unchanged"
    with session_scope() as session:
        jo = store.get_subscriber(session, "jo@example.org")
        assert jo.name == "=HYPERLINK(\"http://x\")" and jo.attributes == {"Postcode": "AB1"}


@pytest.mark.parametrize("text, line", [
    # A quote never closed: every later row would vanish into Jo's name.
    ("email,name\r\njo@example.org,\"Jo\r\nsam@example.org,Sam\r\nlee@example.org,Lee\r\n", 2),
    # Closed by a quote inside a later name: Python's reader would read on past it.
    ("email,name\r\njo@example.org,\"Jo\r\nsam@example.org,Sam \"Sammy\" Smith\r\nlee@example.org,Lee\r\n", 2),
    # Closed at the end of a later row: the file is valid CSV, but Sam's row is inside Jo's name.
    ("email,name\r\nok@example.org,Ok\r\njo@example.org,\"Jo\r\nsam@example.org,Sam\"\r\nlee@example.org,Lee\r\n", 3),
], ids=["never closed", "closed mid-value", "closed at a row end"])
def test_an_unclosed_quote_is_refused_with_its_line(db: Settings, lists: Lists, tmp_path: Path, text: str,
                                                    line: int) -> None:
    source = _write(tmp_path / "quote.csv", text)
    with pytest.raises(ImportRefused, match=rf"^line {line} (?=.*quotation mark)(?=.*Nothing was imported)"):
        import_csv(source, _lists("send-news"), session_scope, consent=CONSENT)
    assert _counts() == (0, 0, 0)


def test_values_that_really_span_lines_still_import(db: Settings, lists: Lists, tmp_path: Path) -> None:
    source = _write(tmp_path / "notes.csv", "email,name,Address\r\njo@example.org,Jo,\"1 High Street,\r\nTown\"\r\n"
                                            "sam@example.org,Sam,\"Flat 2\r\nsam.mum@example.org\"\r\n")
    report = import_csv(source, _lists("send-news"), session_scope, consent=CONSENT)
    assert (report.added, report.problems) == (2, 0)
    with session_scope() as session:
        assert store.get_subscriber(session, "jo@example.org").attributes == {"Address": "1 High Street,\r\nTown"}
