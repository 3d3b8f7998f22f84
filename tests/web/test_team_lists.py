"""Lists, subscribers and team members in the composer, through their forms.

The pages call the subscribers package as `newsletter lists ...` and `newsletter subscribers ...` do,
so these tests check what the browser sees and that the same rules hold: counts, list creation,
CSV import with its row report and problems file, export, search, the consent history, removal,
erasure, accounts, roles and CSRF. Both database backends, through the real app.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask

from newsletter.accounts import service
from newsletter.config import Settings
from newsletter.db import session_scope
from subscribers import store, team as team_actions
from subscribers.csv_export import export_list
from subscribers.models import SubscriptionStatus

from tests.web.conftest import Team, TeamClient

CONSENT = "Signed paper form at the SEND fair, 3 May 2026"
# Line 1 is the header. Line 3 has a bad address, line 5 repeats line 2, line 6 has too many values.
MIXED_CSV = (
    "email,name,postcode\n"
    "jo.bloggs@example.org,Jo Bloggs,M1 1AA\n"
    "not an address,Nobody,M1 1AB\n"
    "Sam@Example.org,Sam Smith,M2 2BB\n"
    "JO.BLOGGS@example.org,Jo again,M1 1AA\n"
    "alex@example.org,Alex,M3 3CC,extra\n"
    "kim@example.org,Kim Lee,\n"
).encode()


@pytest.fixture(autouse=True)
def _private_reports(app: Flask, tmp_path: Path) -> None:
    """Each test's import reports in its own folder, not the shared temporary directory."""
    app.config["IMPORT_REPORTS_DIR"] = str(tmp_path / "import-reports")


def _make_list(slug: str = "send-news", name: str = "SEND newsletter") -> None:
    with session_scope() as session:
        store.create_list(session, slug, name, description="News for families")


def _add(settings: Settings, email: str, slug: str = "send-news", consent: str | None = CONSENT) -> None:
    with session_scope() as session:
        team_actions.add_subscriber(session, settings, email, store.get_lists(session, [slug]), consent=consent,
                                    name="Someone")


def _subscriber_id(email: str) -> int:
    with session_scope() as session:
        return store.get_subscriber(session, email).id


def _status(email: str, slug: str = "send-news") -> SubscriptionStatus | None:
    with session_scope() as session:
        person = store.find_subscriber(session, email)
        if person is None:
            return None
        row = store.subscription(session, person.id, store.get_list(session, slug).id)
        return row.status if row else None


def _upload(client: TeamClient, content: bytes, filename: str = "families.csv", slug: str = "send-news",
            **fields: str):
    data: dict[str, object] = {"file": (io.BytesIO(content), filename), "encoding": "utf-8", **fields}
    return client.post(f"/team/lists/{slug}/import", data, content_type="multipart/form-data")


def _text(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


# --- lists -------------------------------------------------------------------------------------------


def test_the_lists_page_shows_counts_and_links_each_list(as_user: Callable[[str], TeamClient], team: Team,
                                                          db: Settings) -> None:
    _make_list()
    _make_list("short-breaks", "Short breaks")
    _add(db, "a@example.org")
    _add(db, "b@example.org")
    _add(db, "c@example.org", consent=None)  # unconfirmed: sent a confirmation email
    page = _text(as_user(team.editor).get("/team/lists"))
    row = re.search(r'<tr>\s*<th scope="row"><a href="/team/lists/send-news">SEND newsletter</a></th>(.*?)</tr>',
                    page, re.S)
    assert row, page
    assert re.findall(r"<td>([\d,]+)</td>", row.group(1)) == ["1", "2", "0", "2"]  # unconfirmed, confirmed, left, now
    assert 'href="/team/lists/short-breaks"' in page
    assert "Create a list" not in page, "an editor does not see the form"

    detail = _text(as_user(team.editor).get("/team/lists/send-news"))
    assert "News for families" in detail and "Double opt-in" in detail
    assert "<caption>Subscriptions by status</caption>" in detail
    assert "Import people" not in detail and "export.csv" not in detail, "approver-only parts are hidden"
    assert as_user(team.editor).get("/team/lists/nothing-here").status_code == 404


def test_an_approver_creates_a_list_with_the_clis_rules(as_user: Callable[[str], TeamClient], team: Team) -> None:
    client = as_user(team.approver)
    assert "Create a list" in _text(client.get("/team/lists"))
    response = client.post("/team/lists", {"slug": "short-breaks", "name": "Short breaks and activities",
                                           "description": "Clubs and play schemes", "visibility": "private",
                                           "double_opt_in": "off"})
    assert response.status_code == 302 and response.headers["Location"] == "/team/lists/short-breaks"
    with session_scope() as session:
        created = store.get_list(session, "short-breaks")
        assert (created.name, created.public, created.double_opt_in) == ("Short breaks and activities", False, False)
    assert "Created the list" in _text(client.get("/team/lists/short-breaks"))

    bad = client.post("/team/lists", {"slug": "Short Breaks!", "name": "", "visibility": "public",
                                      "double_opt_in": "on"})
    page = _text(bad)
    assert bad.status_code == 400 and "There is a problem" in page and 'href="#field-slug"' in page
    assert "lower-case letters, digits and hyphens" in page and 'aria-invalid="true"' in page
    assert page.count("<title>Error: ") == 1
    taken = client.post("/team/lists", {"slug": "short-breaks", "name": "Again"})
    assert taken.status_code == 400 and "already exists" in _text(taken)
    nameless = client.post("/team/lists", {"slug": "nameless", "name": "  "})
    assert nameless.status_code == 400 and 'href="#field-name"' in _text(nameless)


# --- import ------------------------------------------------------------------------------------------


def test_a_csv_upload_imports_good_rows_and_reports_bad_ones_by_line(as_user: Callable[[str], TeamClient],
                                                                      team: Team) -> None:
    _make_list()
    client = as_user(team.approver)
    response = _upload(client, MIXED_CSV, consent=CONSENT, confirmed="yes")
    assert response.status_code == 302, _text(response)
    report_url = response.headers["Location"]
    assert re.fullmatch(r"/team/lists/send-news/imports/[A-Za-z0-9_-]{24}", report_url)

    page = _text(client.get(report_url))
    assert "Import of families.csv into SEND newsletter" in page
    assert "6 rows read" in page
    assert re.search(r"Imported: added to the list</th><td>3 \(3 of them new", page)
    assert re.search(r'<th scope="row">3</th><td>The email address is not valid', page)
    assert re.search(r'<th scope="row">5</th><td>same address as line 2', page)
    assert re.search(r'<th scope="row">6</th><td>the row has 4 values but the header has 3 columns', page)
    assert "3 rows were not imported" in page
    for email in ("jo.bloggs@example.org", "sam@example.org", "kim@example.org"):
        assert _status(email) is SubscriptionStatus.CONFIRMED, email
    with session_scope() as session:
        assert store.get_subscriber(session, "jo.bloggs@example.org").attributes == {"postcode": "M1 1AA"}

    problems = client.get(report_url + "/problems.csv")
    assert problems.status_code == 200 and problems.mimetype == "text/csv"
    assert "families-problems.csv" in problems.headers["Content-Disposition"]
    assert problems.headers["Cache-Control"] == "no-store"
    rows = list(csv.reader(io.StringIO(problems.get_data().decode("utf-8-sig"))))
    assert rows[0] == ["email", "name", "postcode", "import_line", "import_problem"]
    assert sorted(row[3] for row in rows[1:]) == ["3", "5", "6"]

    # The report and its file name people: nobody else sees them, not even another approver.
    other = as_user(team.second_approver)
    assert other.get(report_url).status_code == 404
    assert other.get(report_url + "/problems.csv").status_code == 404
    assert client.get("/team/lists/send-news/imports/..%2F..%2Fetc/problems.csv").status_code == 404
    assert client.get(report_url.replace("send-news", "other-list")).status_code == 404


def test_importing_the_same_file_again_changes_nothing(as_user: Callable[[str], TeamClient], team: Team) -> None:
    from subscribers.models import ConsentEntry
    from sqlalchemy import func, select

    _make_list()
    client = as_user(team.approver)
    _upload(client, MIXED_CSV, consent=CONSENT, confirmed="yes")
    with session_scope() as session:
        lines = session.scalar(select(func.count()).select_from(ConsentEntry))
    again = _upload(client, MIXED_CSV, consent=CONSENT, confirmed="yes")
    page = _text(client.get(again.headers["Location"]))
    assert re.search(r"Imported: added to the list</th><td>0 \(0 of them new", page)
    assert re.search(r"Already on the list, unchanged</th><td>3<", page)
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(ConsentEntry)) == lines
        assert store.subscription_counts(session)[store.get_list(session, "send-news").id][
            SubscriptionStatus.CONFIRMED] == 3


def test_the_import_form_follows_the_clis_consent_rules(as_user: Callable[[str], TeamClient], team: Team) -> None:
    _make_list()
    client = as_user(team.approver)
    ticked_only = _upload(client, MIXED_CSV, confirmed="yes")
    assert ticked_only.status_code == 400 and 'href="#field-consent"' in _text(ticked_only)
    wording_only = _upload(client, MIXED_CSV, consent=CONSENT)
    assert wording_only.status_code == 400 and 'href="#field-confirmed"' in _text(wording_only)
    assert CONSENT in _text(wording_only), "what was typed is kept"
    no_file = client.post("/team/lists/send-news/import", {"consent": ""}, content_type="multipart/form-data")
    assert no_file.status_code == 400 and "Choose the CSV file" in _text(no_file)
    refused = _upload(client, b"name,phone\nJo,0161\n", filename="people.csv")
    assert refused.status_code == 400 and "The file has no email column" in _text(refused)
    workbook = _upload(client, b"PK\x03\x04rest of a zip", filename="people.xlsx")
    assert workbook.status_code == 400 and "is an Excel workbook" in _text(workbook)
    assert _status("jo.bloggs@example.org") is None, "nothing was imported by a refused form"

    # Without consent wording people are stored unconfirmed, as `subscribers import` without --consent does.
    plain = _upload(client, MIXED_CSV)
    assert plain.status_code == 302
    assert "No consent wording was given" in _text(client.get(plain.headers["Location"]))
    assert _status("jo.bloggs@example.org") is SubscriptionStatus.UNCONFIRMED


def test_unrecognised_headings_are_named_on_the_form(as_user: Callable[[str], TeamClient], team: Team) -> None:
    _make_list()
    client = as_user(team.approver)
    odd = b"Parent or carer email,Who to write to\nsam@example.org,Sam Carer\n"
    refused = _upload(client, odd)
    page = _text(refused)
    assert refused.status_code == 400 and "--map" not in page
    assert "type its heading in “Column with the email addresses”" in page
    typo = _upload(client, odd, email_column="Parent email")
    assert typo.status_code == 400 and 'href="#field-email_column"' in _text(typo)
    assert 'value="Parent email"' in _text(typo), "what was typed is kept"
    done = _upload(client, odd, email_column="Parent or carer email", name_column="Who to write to")
    assert done.status_code == 302
    assert _status("sam@example.org") is SubscriptionStatus.UNCONFIRMED
    with session_scope() as session:
        assert store.get_subscriber(session, "sam@example.org").name == "Sam Carer"


# --- export ------------------------------------------------------------------------------------------


def test_export_streams_the_same_csv_as_the_cli(as_user: Callable[[str], TeamClient], team: Team,
                                               db: Settings) -> None:
    _make_list()
    _add(db, "a@example.org")
    _add(db, "=cmd@example.org")
    _add(db, "waiting@example.org", consent=None)
    client = as_user(team.approver)
    assert 'href="/team/lists/send-news/export.csv"' in _text(client.get("/team/lists/send-news"))
    response = client.get("/team/lists/send-news/export.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert 'filename="send-news-confirmed.csv"' in response.headers["Content-Disposition"]
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf"), "a byte-order mark, so Excel reads it as UTF-8"
    expected = io.StringIO(newline="")
    with session_scope() as session:
        export_list(session, store.get_list(session, "send-news"), expected)
    assert body.decode("utf-8-sig") == expected.getvalue()
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0] == ["email", "name", "status", "subscribed_at", "confirmed_at"]
    assert sorted(row[0] for row in rows[1:]) == ["'=cmd@example.org", "a@example.org"]

    everyone = client.get("/team/lists/send-news/export.csv?status=all").get_data().decode("utf-8-sig")
    assert "waiting@example.org" in everyone and "unconfirmed" in everyone
    assert client.get("/team/lists/send-news/export.csv?status=nope").status_code == 400
    assert client.get("/team/lists/nothing/export.csv").status_code == 404


# --- people ------------------------------------------------------------------------------------------


def test_search_finds_by_normalised_address_or_its_start(as_user: Callable[[str], TeamClient], team: Team,
                                                         db: Settings) -> None:
    _make_list()
    _make_list("short-breaks", "Short breaks")
    _add(db, "jo.bloggs@example.org")
    _add(db, "jo.bloggs@example.org", slug="short-breaks", consent=None)
    _add(db, "jo_b@example.org")
    _add(db, "sam@example.org")
    client = as_user(team.editor)
    assert "Nobody found" not in _text(client.get("/team/subscribers"))

    exact = _text(client.get("/team/subscribers", query_string={"q": "  Jo.Bloggs@EXAMPLE.org "}))
    assert "1 person found" in exact and "jo.bloggs@example.org" in exact
    assert "SEND newsletter: confirmed" in exact and "Short breaks: unconfirmed" in exact
    prefix = _text(client.get("/team/subscribers", query_string={"q": "JO"}))
    assert "2 people found" in prefix and "sam@example.org" not in prefix
    literal = _text(client.get("/team/subscribers", query_string={"q": "jo_"}))
    assert "1 person found" in literal and "jo_b@example.org" in literal, "_ is not a wildcard"
    none = _text(client.get("/team/subscribers", query_string={"q": "nobody@"}))
    assert "Nobody found" in none


def test_search_shows_at_most_fifty(as_user: Callable[[str], TeamClient], team: Team) -> None:
    _make_list()
    client = as_user(team.approver)
    rows = "".join(f"parent{i:02d}@example.org\n" for i in range(55))
    _upload(client, ("email\n" + rows).encode(), consent=CONSENT, confirmed="yes")
    page = _text(client.get("/team/subscribers", query_string={"q": "parent"}))
    assert len(re.findall(r'href="/team/subscribers/\d+"', page)) == 50
    assert "Only the first 50 are shown" in page


def test_the_detail_page_shows_subscriptions_and_consent_history(as_user: Callable[[str], TeamClient], team: Team,
                                                                db: Settings) -> None:
    _make_list()
    _add(db, "jo@example.org")
    person = _subscriber_id("jo@example.org")
    editor = _text(as_user(team.editor).get(f"/team/subscribers/{person}"))
    assert "jo@example.org" in editor and "Someone" in editor and "Active" in editor
    assert "SEND newsletter" in editor and "Confirmed" in editor
    assert "Consent history" in editor and CONSENT in editor and "Admin" in editor
    assert "Unsubscribe" not in editor and "Erase" not in editor, "no approver actions for an editor"
    approver = _text(as_user(team.approver).get(f"/team/subscribers/{person}"))
    assert "Unsubscribe<span class=\"visually-hidden\"> from SEND newsletter</span>" in approver
    assert f'href="/team/subscribers/{person}/erase"' in approver
    assert as_user(team.editor).get("/team/subscribers/999999").status_code == 404


def test_an_approver_unsubscribes_someone_from_one_list(as_user: Callable[[str], TeamClient], team: Team,
                                                       db: Settings) -> None:
    _make_list()
    _make_list("short-breaks", "Short breaks")
    _add(db, "jo@example.org")
    _add(db, "jo@example.org", slug="short-breaks")
    person = _subscriber_id("jo@example.org")
    client = as_user(team.approver)
    response = client.post(f"/team/subscribers/{person}/remove", {"list": "short-breaks"})
    assert response.status_code == 302 and response.headers["Location"] == f"/team/subscribers/{person}"
    assert _status("jo@example.org", "short-breaks") is SubscriptionStatus.UNSUBSCRIBED
    assert _status("jo@example.org") is SubscriptionStatus.CONFIRMED
    page = _text(client.get(f"/team/subscribers/{person}"))
    assert "Unsubscribed them from “Short breaks”" in page and "Removed by the team" in page
    again = client.post(f"/team/subscribers/{person}/remove", {"list": "short-breaks"})
    assert "nothing changed" in _text(client.get(again.headers["Location"]))
    assert client.post(f"/team/subscribers/{person}/remove", {"list": "nope"}).status_code == 400


def test_erasing_asks_first_then_deletes_and_suppresses(as_user: Callable[[str], TeamClient], team: Team,
                                                       db: Settings) -> None:
    from subscribers.emails import email_hash

    _make_list()
    _add(db, "jo@example.org")
    person = _subscriber_id("jo@example.org")
    client = as_user(team.approver)
    confirm = client.get(f"/team/subscribers/{person}/erase")
    assert confirm.status_code == 200 and "cannot be undone" in _text(confirm)
    skipped = client.post(f"/team/subscribers/{person}/erase", {})
    assert skipped.status_code == 302 and skipped.headers["Location"] == f"/team/subscribers/{person}/erase"
    assert _status("jo@example.org") is SubscriptionStatus.CONFIRMED, "no erasure without the confirmation"

    erased = client.post(f"/team/subscribers/{person}/erase", {"confirm": "yes"})
    assert erased.status_code == 302 and erased.headers["Location"] == "/team/subscribers"
    page = _text(client.get("/team/subscribers"))
    assert "Erased:" in page and "jo@example.org" not in page
    with session_scope() as session:
        assert store.find_subscriber(session, "jo@example.org") is None
        assert store.find_suppression(session, email_hash("jo@example.org")) is not None
    assert client.get(f"/team/subscribers/{person}").status_code == 404
    # And an import cannot bring them back.
    report = _upload(client, b"email\njo@example.org\n", consent=CONSENT, confirmed="yes")
    assert "asked for their details to be erased" in _text(client.get(report.headers["Location"]))


# --- team members ------------------------------------------------------------------------------------


def test_approvers_manage_team_members(as_user: Callable[[str], TeamClient], team: Team, anonymous: TeamClient) -> None:
    client = as_user(team.approver)
    page = _text(client.get("/team/users"))
    assert "Ed Editor" in page and "ed@example.org" in page and "Never" in page and "Active" in page
    assert 'href="/team/users"' in page and ">Team members</a>" in page
    assert "Team members" not in _text(as_user(team.editor).get("/team/issues")), "no nav link for an editor"

    short = client.post("/team/users", {"name": "Lou", "email": "lou@example.org", "role": "editor",
                                        "password": "too short"})
    assert short.status_code == 400 and 'href="#field-password"' in _text(short) and "at least 12" in _text(short)
    everything = client.post("/team/users", {"name": "", "email": "nope", "role": "boss", "password": ""})
    text = _text(everything)
    assert everything.status_code == 400
    assert all(f'href="#field-{name}"' in text for name in ("name", "email", "role", "password"))
    taken = client.post("/team/users", {"name": "Ed", "email": "ED@example.org", "role": "editor",
                                        "password": "another long password"})
    assert taken.status_code == 400 and "already an account" in _text(taken)

    created = client.post("/team/users", {"name": "Lou Editor", "email": "Lou@Example.org", "role": "editor",
                                          "password": "a brand new password"})
    assert created.status_code == 302 and created.headers["Location"] == "/team/users"
    assert "Created an editor account for Lou Editor" in _text(client.get("/team/users"))
    assert anonymous.sign_in("lou@example.org", "a brand new password").status_code == 302

    with session_scope() as session:
        lou = service.find_user(session, "lou@example.org").id
        me = service.find_user(session, team.approver).id
    assert client.post(f"/team/users/{lou}/deactivate").status_code == 302
    assert "can no longer sign in" in _text(client.get("/team/users"))
    assert anonymous.get("/team/issues").status_code == 302, "their open session ended"
    assert TeamClient(anonymous.client.application.test_client()).sign_in(
        "lou@example.org", "a brand new password").status_code == 400
    client.post(f"/team/users/{me}/deactivate")
    assert "cannot deactivate your own account" in _text(client.get("/team/users"))
    assert client.get("/team/issues").status_code == 200
    assert client.post("/team/users/999999/deactivate").status_code == 404


# --- who may do what ---------------------------------------------------------------------------------


def _approver_only(person: int, report: str) -> tuple[list[str], list[tuple[str, dict[str, str]]]]:
    gets = ["/team/lists/send-news/export.csv", f"/team/subscribers/{person}/erase", "/team/users", report,
            report + "/problems.csv"]
    posts = [
        ("/team/lists", {"slug": "x", "name": "X"}),
        ("/team/lists/send-news/import", {"consent": ""}),
        (f"/team/subscribers/{person}/remove", {"list": "send-news"}),
        (f"/team/subscribers/{person}/erase", {"confirm": "yes"}),
        ("/team/users", {"name": "X", "email": "x@example.org", "role": "approver", "password": "x" * 20}),
        (f"/team/users/{person}/deactivate", {}),
    ]
    return gets, posts


def test_an_editor_is_refused_approver_actions_and_a_visitor_is_sent_to_sign_in(
    as_user: Callable[[str], TeamClient], team: Team, anonymous: TeamClient, db: Settings
) -> None:
    _make_list()
    _add(db, "jo@example.org")
    person = _subscriber_id("jo@example.org")
    report = _upload(as_user(team.approver), b"email\nkim@example.org\n").headers["Location"]
    gets, posts = _approver_only(person, report)
    editor = as_user(team.editor)
    for url in gets:
        assert editor.get(url).status_code == 403, url
    for url, data in posts:
        assert editor.post(url, data).status_code == 403, url
    for url in ("/team/lists", "/team/lists/send-news", "/team/subscribers?q=jo", f"/team/subscribers/{person}"):
        assert editor.get(url).status_code == 200, url
    assert _status("jo@example.org") is SubscriptionStatus.CONFIRMED
    with session_scope() as session:
        assert [lst.slug for lst in store.all_lists(session)] == ["send-news"]

    for url in gets + ["/team/lists", "/team/lists/send-news", "/team/subscribers", f"/team/subscribers/{person}"]:
        response = anonymous.get(url)
        assert response.status_code == 302 and "/team/sign-in?next=" in response.headers["Location"], url
    for url, data in posts:
        assert anonymous.post(url, data).status_code == 401, url


def test_every_post_refuses_a_missing_csrf_token(as_user: Callable[[str], TeamClient], team: Team,
                                                 db: Settings) -> None:
    _make_list()
    _add(db, "jo@example.org")
    person = _subscriber_id("jo@example.org")
    client = as_user(team.approver)
    _, posts = _approver_only(person, "")
    for url, data in posts:
        response = client.post(url, data, csrf=False)
        assert response.status_code == 400 and "could not accept this form" in _text(response), url
    upload = client.post("/team/lists/send-news/import", {"file": (io.BytesIO(MIXED_CSV), "families.csv"),
                                                          "consent": CONSENT, "confirmed": "yes"},
                         csrf=False, content_type="multipart/form-data")
    assert upload.status_code == 400
    assert _status("jo@example.org") is SubscriptionStatus.CONFIRMED
    assert _status("kim@example.org") is None
    with session_scope() as session:
        assert service.find_user(session, team.editor).active
