"""Clicks through the redirect after a real send: counted as numbers, never tied to a reader.

On SQLite and PostgreSQL: the example issue goes to 50 readers through a real SMTP server, then a
real HTTP client follows the links in their messages against the real app under waitress.
"""

from __future__ import annotations

import email
import hashlib
import email.policy
import re
import threading
from email.message import EmailMessage
from pathlib import Path

from sqlalchemy import inspect, select, text

from newsletter.config import Settings, get_settings, reset_settings
from newsletter.counts import links, store
from newsletter.counts.models import LinkCount
from newsletter.counts.report import campaign_report
from newsletter.db import engine_for, session_scope
from newsletter.delivery import campaigns
from newsletter.issues import store as issues
from newsletter.models import load_all
from newsletter.tokens import sign_stable

from tests.counts.conftest import BROWSER, SLUG, Served, send_to_readers
from tests.delivery.conftest import approved_issue, make_list, make_readers

REDIRECT = re.compile(rb"https://news\.example\.org/r/\d+/[A-Za-z0-9_.-]+")
SCANNERS = ["Barracuda Sentinel (EE)", "Mozilla/5.0 (compatible; Proofpoint URL Defense)",
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0 Safari/537.36",
            "python-requests/2.32", "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928; Pro)"]


def _parse(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[return-value]


def _redirects_in_raw(raw: bytes) -> list[bytes]:
    """The redirect links as the message's bytes carry them (quoted-printable soft breaks joined)."""
    return REDIRECT.findall(raw.replace(b"=\r\n", b"").replace(b"=3D", b"="))


def _html(raw: bytes) -> str:
    return _parse(raw).get_body(("html",)).get_content()


def _text(raw: bytes) -> str:
    return _parse(raw).get_body(("plain",)).get_content()


def _everything(settings: Settings) -> dict[str, list[tuple]]:
    """Every row of every table, to show what a click changes (and what it does not)."""
    load_all()
    engine = engine_for(settings.database_url)
    with engine.connect() as connection:
        return {name: sorted(map(tuple, connection.execute(text(f'SELECT * FROM "{name}"')).all()), key=repr)
                for name in inspect(engine).get_table_names() if name != "alembic_version"}


def _clicks(campaign_id: int) -> dict[str, int]:
    with session_scope() as session:
        return {link.url: link.count for link in campaign_report(session, campaign_id).clicks}


def test_a_send_to_50_readers_then_clicks_are_numbers_per_link_and_nothing_else(fast: Settings,
                                                                               served: Served) -> None:
    campaign_id, messages = send_to_readers(fast, 50)
    assert len(messages) == 50
    by_reader = {item.recipients[0]: item.data for item in messages}

    # The same links, byte for byte, in every reader's raw message: nothing in them names a reader.
    first = _redirects_in_raw(by_reader["reader0@example.org"])
    assert len(first) >= 20, "every link to another site, in the HTML and the text part"
    for raw in by_reader.values():
        assert _redirects_in_raw(raw) == first

    html, plain = _html(by_reader["reader0@example.org"]), _text(by_reader["reader0@example.org"])
    assert 'href="https://www.example.org' not in html, "no link to another site goes around the counter"
    assert "https://www.example.org" not in plain.replace("localoffer@", "")
    # The service's own links are left as they are: the web view, the reader's unsubscribe and preferences.
    assert f'href="https://news.example.org/issues/{SLUG}"' in html
    assert re.search(r'href="https://news\.example\.org/u/[^"]+"', html)
    assert re.search(r'href="https://news\.example\.org/p/[^"]+"', html)
    assert 'href="mailto:' in html and 'href="tel:' in html
    assert f"https://news.example.org/issues/{SLUG}" in plain and "/u/" in plain

    with session_scope() as session:
        issue_id = issues.get_issue(session, SLUG).id
        survey_id = store.register_links(session, issue_id, ["https://www.example.org/localoffer/survey"])
    survey = links.redirect_url(fast, issue_id, survey_id["https://www.example.org/localoffer/survey"])
    assert survey.encode() in first
    before = _everything(fast)

    for _ in range(5):
        answer = served.open(survey)
        assert answer.status == 302 and answer.headers["Location"] == "https://www.example.org/localoffer/survey"
        assert answer.headers["Cache-Control"] == "no-store" and answer.headers["Referrer-Policy"] == "no-referrer"
        assert "Set-Cookie" not in answer.headers
    # HEAD, no user agent, known scanners and prefetches: the redirect works for them but nothing is counted.
    assert served.open(survey, method="HEAD").status == 302
    assert served.open(survey, agent=None).status == 302
    for scanner in SCANNERS:
        assert served.open(survey, agent=scanner).headers["Location"] == "https://www.example.org/localoffer/survey"
    assert served.open(survey, headers={"Sec-Purpose": "prefetch"}).status == 302
    counted = _clicks(campaign_id)
    assert counted["https://www.example.org/localoffer/survey"] == 5
    assert sum(counted.values()) == 5 and len(counted) == len(set(first)), "each link once, in the report"

    # What the clicks changed: one number. No row anywhere was added, and no other value moved.
    after = _everything(fast)
    assert {name for name in after if after[name] != before[name]} == {"link_counts"}
    assert len(after["link_counts"]) == len(before["link_counts"])

    # A changed token is refused with a plain page, and never sends anyone anywhere.
    token = survey.rsplit("/", 1)[1]
    middle = len(survey) - 10  # inside the signature, where every bit counts (the last character has spare bits)
    changed = survey[:middle] + ("A" if survey[middle] != "A" else "B") + survey[middle + 1:]
    for broken in (changed, survey.replace(f"/r/{issue_id}/", "/r/999/"),
                   f"https://news.example.org/r/{issue_id}/{token.split('.')[0]}.x"):
        answer = served.open(broken)
        assert answer.status in (400, 404) and "Location" not in answer.headers
        assert "This link is not valid" in answer.body or "could not find" in answer.body
    forged = sign_stable(links.PURPOSE, [issue_id, 10**6], fast.secret_key)
    answer = served.open(f"https://news.example.org/r/{issue_id}/{forged}")
    assert answer.status == 404 and "Location" not in answer.headers
    assert _clicks(campaign_id)["https://www.example.org/localoffer/survey"] == 5


def test_no_table_holds_a_reader_next_to_a_count_or_an_answer(fast: Settings, served: Served,
                                                              tmp_path: Path) -> None:
    """Issue 13's promise, after a send to 50 readers with clicks, web-view visits, feedback and poll answers
    and comments: no table holds a subscriber id, address, delivery id or IP next to a count or an answer."""
    campaign_id, messages = send_to_readers(fast, 50, poll_in=tmp_path)
    answered = messages[:10]
    cookies = []
    for n, item in enumerate(answered):
        served.open(_redirects_in_raw(item.data)[3].decode())
        html = _html(item.data)
        feedback = re.findall(r'href="(https://news\.example\.org/answer/feedback/[^"]+)"', html)
        poll = re.findall(r'href="(https://news\.example\.org/answer/poll/[^"]+)"', html)
        assert len(feedback) == 2 and len(poll) == 4, "two feedback answers; three poll answers and something else"
        assert served.open(feedback[0]).status == 200, "opening the page counts nothing; only sending does"
        sent = served.open(feedback[0], form={"answer": "useful" if n < 7 else "not_useful",
                                              "comment": f"Comment {n}: the charter helped us." if n < 3 else ""})
        assert sent.status == 303, sent.body
        cookies.append(sent.headers["Set-Cookie"].split(";")[0].split("=", 1)[1])
        chosen = {"choice": "other", "other": f"Answer {n}: after school"} if n == 0 else {"choice": str(n % 3)}
        # The same browser answers the poll: its cookie goes with it, as a browser sends it.
        same_browser = {"Cookie": sent.headers["Set-Cookie"].split(";")[0]}
        assert served.open(poll[0], form=chosen, headers=same_browser).status == 303
    served.open(f"https://news.example.org/issues/{SLUG}")

    load_all()
    engine = engine_for(fast.database_url)
    schema = inspect(engine)
    identity = re.compile(r"subscriber|email|address|delivery|ip|agent|remote|token|reader|cookie|user",
                          re.IGNORECASE)
    kept = {"link_counts", "web_view_counts", "feedback_answers", "poll_answers", "reader_comments"}
    for table in kept:
        columns = {column["name"] for column in schema.get_columns(table)}
        assert not [name for name in columns if identity.search(name)], (table, columns)
        assert {fk["referred_table"] for fk in schema.get_foreign_keys(table)} == {"issues"}, table
    assert {column["name"] for column in schema.get_columns("link_counts")} == {
        "id", "issue_id", "url_hash", "url", "position", "clicks"}
    assert {column["name"] for column in schema.get_columns("web_view_counts")} == {"issue_id", "visits"}
    with session_scope() as session:
        emails = set(session.scalars(text("SELECT email FROM subscribers")))
        delivery_ids = {str(value) for value in session.scalars(text("SELECT id FROM deliveries"))}
        rows = {table: [tuple(row) for row in session.execute(text(f"SELECT * FROM {table}"))] for table in kept}
    assert len(emails) == 50 and all(rows.values())
    flat = " ".join(map(str, (value for table in rows.values() for row in table for value in row)))
    assert not any(address in flat for address in emails) and "127.0.0.1" not in flat
    # An answer's "browser" is a one-way hash of a random value kept only in that browser's cookie: it lets
    # the same browser change its answer, and leads to nobody. The cookie's value itself is stored nowhere.
    assert not any(value in flat for value in cookies)
    for table in ("feedback_answers", "poll_answers"):
        browser = [column["name"] for column in schema.get_columns(table)].index("browser")
        assert {row[browser] for row in rows[table]} == {hashlib.sha256(value.encode()).hexdigest() for value in cookies}
    # Nothing kept with an answer or a count matches a delivery: no time, no order that would line up with sends.
    for table in ("feedback_answers", "poll_answers", "link_counts", "web_view_counts"):
        columns = [column["name"] for column in schema.get_columns(table)]
        assert not [name for name in columns if name.endswith("_at")], (table, columns)
    assert delivery_ids

    with session_scope() as session:
        report = campaign_report(session, campaign_id).as_dict()
    assert sum(link["count"] for link in report["clicks"]) == 10 and report["web_views"] == 1
    assert report["feedback"] == {"useful": 7, "not_useful": 3, "comments": 3}
    assert report["polls"] == [{"question": "Which time suits you best for the next coffee morning?",
                                "results": {"A weekday morning": 3, "A weekday evening": 3, "A Saturday": 3,
                                            "Something else": 1}}]


def test_clicks_at_the_same_moment_are_all_counted(fast: Settings, served: Served) -> None:
    campaign_id, messages = send_to_readers(fast, 2)
    link = _redirects_in_raw(messages[0].data)[5].decode()
    answers: list[int] = []

    def click(times: int) -> None:
        for _ in range(times):
            answers.append(served.open(link).status)

    threads = [threading.Thread(target=click, args=(20,)) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert answers == [302] * 100
    assert max(_clicks(campaign_id).values()) == 100


def test_a_click_waiting_for_another_is_added_to_it_not_written_over_it(fast: Settings) -> None:
    """Forces the interleaving: a second click arrives while the first one's transaction is still open."""
    approved_issue(fast)
    with session_scope() as session:
        issue_id = issues.get_issue(session, SLUG).id
        link_id = store.register_links(session, issue_id, ["https://www.example.org/a"])["https://www.example.org/a"]
    first = session_scope()
    session = first.__enter__()
    store.count_click(session, issue_id, link_id)  # holds the row (PostgreSQL) or the write lock (SQLite)
    done = threading.Event()

    def second() -> None:
        with session_scope() as other:
            store.count_click(other, issue_id, link_id)
        done.set()

    thread = threading.Thread(target=second)
    thread.start()
    assert not done.wait(0.5), "the second click waits for the first"
    first.__exit__(None, None, None)
    thread.join(30)
    assert done.is_set()
    with session_scope() as session:
        assert session.scalar(select(LinkCount.clicks).where(LinkCount.id == link_id)) == 2


def test_with_counting_off_links_go_straight_to_where_they_lead(fast: Settings, served: Served,
                                                                monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("NEWSLETTER_COUNT_CLICKS", "0")
    reset_settings()
    settings = get_settings()
    assert settings.count_clicks is False
    campaign_id, messages = send_to_readers(settings, 3)
    raw = messages[0].data
    assert _redirects_in_raw(raw) == []
    assert 'href="https://www.example.org/localoffer/survey"' in _html(raw)
    assert "(https://www.example.org/localoffer/survey)" in _text(raw)
    with session_scope() as session:
        assert session.scalar(select(LinkCount.id)) is None
        assert campaign_report(session, campaign_id).clicks == []


def test_clicks_on_a_test_copy_before_the_send_are_not_counted(fast: Settings, served: Served,
                                                              monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from newsletter.delivery.testsend import send_test_copies
    from tests.smtp import SmtpServer

    approved_issue(fast)
    make_readers(make_list(), 2)
    with SmtpServer() as server:
        monkeypatch.setenv("NEWSLETTER_SMTP_URL", server.url)
        reset_settings()
        with session_scope() as session:
            send_test_copies(session, SLUG, ["team@example.org"], get_settings(), sent_by="test")
    test_links = _redirects_in_raw(server.messages[0].data)
    assert test_links, "a test copy carries the same counted links a reader's does"
    assert served.open(test_links[0].decode()).status == 302
    monkeypatch.delenv("NEWSLETTER_SMTP_URL")
    reset_settings()
    with session_scope() as session:
        assert session.scalar(select(LinkCount.clicks).where(LinkCount.clicks > 0)) is None
        campaign_id = campaigns.create_campaign(session, issues.get_issue(session, SLUG), ["send-news"], fast).id
        message = campaigns.message_of(session, campaigns.get_campaign(session, campaign_id), fast)
        # The campaign's links are the test copy's links: the team checked what families get.
        assert set(REDIRECT.findall(message.email_html.encode())) == set(test_links)
    assert served.open(test_links[0].decode(), agent=BROWSER).status == 302
    assert sum(_clicks(campaign_id).values()) == 1
