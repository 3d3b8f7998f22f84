"""The pages a feedback or poll link opens, through the real app and database (both backends).

A link opened (GET, as every mail scanner does) counts nothing; the button (POST) counts once; the
same browser changing its answer moves the count; a link changed by hand is refused with a page in
plain words; a closed poll refuses; and what a person typed comes back to them on every refusal.
"""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy import func, select

from newsletter.config import Settings
from newsletter.db import session_scope
from newsletter.issues.models import IssueStatus
from newsletter.listening import store
from newsletter.listening.models import FeedbackAnswer, PollAnswer, ReaderComment

from tests.listening.conftest import Links, make_issue, path, reader_links


def _counts(issue_id: int) -> tuple[dict[str, int], list[dict[str, object]]]:
    with session_scope() as session:
        return store.feedback_counts(session, issue_id), store.poll_results(session, issue_id)


def _rows() -> int:
    with session_scope() as session:
        return sum(session.scalar(select(func.count()).select_from(model)) or 0
                   for model in (FeedbackAnswer, PollAnswer, ReaderComment))


def test_opening_any_link_changes_no_count(reader: FlaskClient, links: Links, issue_id: int) -> None:
    for url in (links.useful, links.not_useful, *links.poll, *links.closed_poll):
        for method in ("GET", "HEAD"):
            response = reader.open(path(url), method=method)
            assert response.status_code == 200, url
        # A scanner following the form's address with GET changes nothing either.
        assert reader.get(path(url) + "/sent").status_code == 200
    assert _rows() == 0
    feedback, polls = _counts(issue_id)
    assert feedback == {"useful": 0, "not_useful": 0, "comments": 0}
    assert all(sum(poll["results"].values()) == 0 for poll in polls)


def test_the_link_opens_a_page_with_its_answer_chosen_and_a_button(reader: FlaskClient, links: Links) -> None:
    page = reader.get(path(links.not_useful)).get_data(as_text=True)
    assert re.search(r'value="not_useful" checked', page) and not re.search(r'value="useful" checked', page)
    assert "Send my answer" in page and 'name="comment"' in page and 'method="post"' in page
    poll = reader.get(path(links.poll[1])).get_data(as_text=True)
    assert "Which day suits you for coffee mornings?" in poll and re.search(r'value="1" checked', poll)
    assert re.search(r'value="other" checked', reader.get(path(links.poll[2])).get_data(as_text=True))


def test_the_button_counts_once_and_a_changed_answer_moves_the_count(reader: FlaskClient, links: Links,
                                                                     issue_id: int) -> None:
    response = reader.post(path(links.useful), data={"answer": "useful"})
    assert response.status_code == 303
    assert _counts(issue_id)[0] == {"useful": 1, "not_useful": 0, "comments": 0}
    assert "You answered: <strong>Yes, it was useful</strong>" in reader.get(response.headers["Location"]).get_data(
        as_text=True)
    # The same browser, again and then changing its mind: still one answer.
    reader.post(path(links.useful), data={"answer": "useful"})
    assert _counts(issue_id)[0] == {"useful": 1, "not_useful": 0, "comments": 0}
    page = reader.get(path(links.useful)).get_data(as_text=True)
    assert "You answered before, from this browser: <strong>Yes, it was useful</strong>" in page
    reader.post(path(links.useful), data={"answer": "not_useful"})
    assert _counts(issue_id)[0] == {"useful": 0, "not_useful": 1, "comments": 0}
    # Another browser is another answer.
    other_browser = reader.application.test_client()
    other_browser.post(path(links.not_useful), data={"answer": "useful"})
    assert _counts(issue_id)[0] == {"useful": 1, "not_useful": 1, "comments": 0}


def test_a_poll_answer_counts_once_and_moves_when_changed(reader: FlaskClient, links: Links, issue_id: int) -> None:
    assert reader.post(path(links.poll[0]), data={"choice": "0"}).status_code == 303
    reader.post(path(links.poll[0]), data={"choice": "0"})
    question = "Which day suits you for coffee mornings?"
    results = {poll["question"]: poll["results"] for poll in _counts(issue_id)[1]}
    assert results[question] == {"Monday morning": 1, "Friday morning": 0, "Something else": 0}
    reader.post(path(links.poll[0]), data={"choice": "other", "other": "Saturday, when I am not at work"})
    results = {poll["question"]: poll["results"] for poll in _counts(issue_id)[1]}
    assert results[question] == {"Monday morning": 0, "Friday morning": 0, "Something else": 1}
    with session_scope() as session:
        (comment,) = store.comments(session, issue_id)
        assert comment.body == "Saturday, when I am not at work" and comment.source.value == "poll"
    assert results["Did you come to the SEND fair?"] == {"Yes": 0, "No": 0}


def test_a_tampered_or_forged_link_is_refused_in_plain_words(reader: FlaskClient, links: Links,
                                                             db: Settings, issue_id: int) -> None:
    token = path(links.useful).rsplit("/", 1)[1]
    payload, signature = token.split(".")
    changed = ("A" if payload[0] != "A" else "B") + payload[1:] + "." + signature
    from newsletter.tokens import sign_stable
    made_up = sign_stable("feedback-link", ["summer-news", "useful"], secret="not-our-secret-key-at-all")
    poll_for_feedback = path(links.poll[0]).rsplit("/", 1)[1]
    for bad in (changed, made_up, "nonsense", poll_for_feedback):
        for response in (reader.get(f"/answer/feedback/{bad}"),
                         reader.post(f"/answer/feedback/{bad}", data={"answer": "useful", "comment": "Kept words"})):
            page = response.get_data(as_text=True)
            assert response.status_code == 400, bad
            assert "This link does not work" in page and "Traceback" not in page and "BadSignature" not in page
            if response.request.method == "POST":
                assert "Kept words" in page, "what was typed comes back to copy"
    assert reader.post(f"/answer/poll/{token}", data={"choice": "0"}).status_code == 400
    assert _rows() == 0


def test_a_closed_poll_refuses_answers_and_shows_its_results(reader: FlaskClient, links: Links, issue_id: int) -> None:
    page = reader.get(path(links.closed_poll[0])).get_data(as_text=True)
    assert "This poll closed on Friday 31 January 2020, so it takes no more answers." in page
    assert 'name="choice"' not in page and "Nobody answered this poll." in page
    response = reader.post(path(links.closed_poll[0]), data={"choice": "0"})
    assert response.status_code == 409 and "This poll has closed" in response.get_data(as_text=True)
    assert _rows() == 0


def test_answers_are_refused_before_the_issue_is_sent(reader: FlaskClient, db: Settings) -> None:
    make_issue(IssueStatus.APPROVED)
    links = reader_links(db)
    for url in (links.useful, links.poll[0]):
        response = reader.get(path(url))
        assert response.status_code == 409 and "has not been sent yet" in response.get_data(as_text=True)
    response = reader.post(path(links.useful), data={"answer": "useful", "comment": "Lovely"})
    assert response.status_code == 409 and "Lovely" in response.get_data(as_text=True)
    assert _rows() == 0


def test_a_comment_reaches_the_team_without_a_name(reader: FlaskClient, links: Links, issue_id: int) -> None:
    reader.post(path(links.not_useful), data={"answer": "not_useful", "comment": "  The dates\r\nwere wrong.  "})
    assert _counts(issue_id)[0] == {"useful": 0, "not_useful": 1, "comments": 1}
    with session_scope() as session:
        (comment,) = store.comments(session, issue_id)
        assert (comment.body, comment.answer, comment.source.value) == ("The dates\nwere wrong.", "not_useful",
                                                                       "feedback")


def test_a_refused_comment_comes_back_in_its_box_with_the_reason(reader: FlaskClient, links: Links) -> None:
    long = "word " * 500
    response = reader.post(path(links.useful), data={"answer": "useful", "comment": long})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "There is a problem" in page
    assert "Your comment is 2,499 characters long; we can take up to 2,000." in page
    assert long.strip() in page and 'value="useful" checked' in page
    response = reader.post(path(links.useful), data={"answer": "useful", "comment": "Good\x00 news\x07"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "2 invisible control characters" in page
    assert ">Good news</textarea>" in page
    # Nothing chosen: the comment stays.
    page = reader.post(path(links.useful), data={"comment": "Keep me"}).get_data(as_text=True)
    assert "Choose whether this newsletter was useful" in page and ">Keep me</textarea>" in page
    # Something else chosen with nothing written, or written with another answer chosen.
    page = reader.post(path(links.poll[2]), data={"choice": "other", "other": " "}).get_data(as_text=True)
    assert "Write your answer in the box" in page
    page = reader.post(path(links.poll[2]), data={"choice": "1", "other": "Sundays"}).get_data(as_text=True)
    assert "You wrote an answer in the box but chose “Friday morning”" in page and ">Sundays</textarea>" in page
    assert _rows() == 0


def test_the_web_view_shows_a_closed_poll_s_results_and_the_open_one_s_links(reader: FlaskClient, links: Links,
                                                                            issue_id: int) -> None:
    with session_scope() as session:
        from newsletter.issues.models import Issue
        issue = session.get(Issue, issue_id)
        key = store.poll_key(issue, 2)
        for n, choice in enumerate([0, 0, 1]):
            store.record_poll_answer(session, issue_id, key, store.browser_hash(f"browser-{n}"), choice)
    page = reader.get("/issues/summer-news").get_data(as_text=True)
    assert "What families said: 3 answers" in page
    assert re.search(r'<th scope="row">Yes</th><td>2</td><td>67%</td>', page)
    assert path(links.closed_poll[0]) not in page, "a closed poll shows results, not links"
    assert path(links.poll[0]) in page and "Answers until Thursday 31 December 2099." in page
    assert path(links.useful) in page and "Was this newsletter useful?" in page


def test_an_issue_with_feedback_off_has_no_feedback_links(reader: FlaskClient, db: Settings) -> None:
    make_issue(feedback=False, slug="quiet-news")
    with session_scope() as session:
        from newsletter.issues import store as issues
        from newsletter.issues.service import rendered
        from newsletter.theme import get_theme
        out = rendered(issues.get_issue(session, "quiet-news"), get_theme(), db)
    for part in (out.html.public, out.text.public, out.web_html):
        assert "/answer/feedback/" not in part and "Was this newsletter useful?" not in part
        assert "/answer/poll/" in part
