"""The pages a feedback or poll link opens: the answer chosen, a button that sends it, and a thank-you.

Only the button counts. Mail security systems and link checkers open (GET) every link in an email,
so a GET shows the page and changes nothing; the POST records the answer. The link's signed token
(newsletter/listening/links.py) is what allows the POST, as with the review comments, so the form
needs no CSRF cookie and a page left open for days still sends.

Nobody is identified. The browser that answers gets a random value in a cookie (`newsletter_answers`,
sent only to /answer/ pages); its hash keys the answer row, so the same browser changing its answer
moves the count instead of adding one. Posts are limited per client network in this process's memory
(never stored), so one machine cannot pour in answers.

What a person typed is never lost: a refused comment comes back in its box with the reason at the top.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from flask import Blueprint, Response, current_app, redirect, request, url_for
from sqlalchemy.orm import Session

from newsletter.issues import store as issues
from newsletter.issues.blocks import PollBlock
from newsletter.issues.models import Issue
from newsletter.issues.service import is_public
from newsletter.listening import comments, links, polls
from newsletter.listening import store as answers
from newsletter.listening.models import CommentSource, Usefulness
from newsletter.render.pipeline import web_url
from newsletter.tokens import BadToken
from newsletter.web import pages
from newsletter.web.csrf import csrf_exempt
from newsletter.web.ratelimit import RateLimiter

answer_pages = Blueprint("answers", __name__)

COOKIE = "newsletter_answers"
COOKIE_PATH = "/answer/"
# Browsers keep a cookie for at most about 400 days whatever is asked.
COOKIE_SECONDS = 400 * 24 * 3600
_COOKIE_VALUE = re.compile(r"^[A-Za-z0-9_-]{32}$")
RATE_LIMIT = 60
RATE_WINDOW_SECONDS = 600

FEEDBACK_WORDS = {Usefulness.USEFUL.value: "Yes, it was useful", Usefulness.NOT_USEFUL.value: "No, it was not useful"}
NOT_SENT = ("This newsletter has not been sent yet, so it does not take answers. If you are looking at a "
            "preview or a test copy, that is why.")


@answer_pages.record_once
def _setup(state: Any) -> None:
    config = state.app.config
    state.app.extensions["answers.limiter"] = RateLimiter(
        config.get("ANSWER_RATE_LIMIT", RATE_LIMIT), config.get("ANSWER_RATE_WINDOW", RATE_WINDOW_SECONDS))


# --- the browser's random value ---------------------------------------------------------------------


def _browser_value() -> str | None:
    value = request.cookies.get(COOKIE, "")
    return value if _COOKIE_VALUE.match(value) else None


def _remember(response: Response, value: str) -> Response:
    secure = request.is_secure or pages.settings().base_url.startswith("https://")
    response.set_cookie(COOKIE, value, max_age=COOKIE_SECONDS, path=COOKIE_PATH, httponly=True, samesite="Lax",
                        secure=secure)
    return response


# --- pages ------------------------------------------------------------------------------------------


def _page(template: str, status: int = 200, **context: Any) -> Response:
    body = pages.render_page(f"answers/{template}", noindex=True, **context)
    response = Response(body, status=status, mimetype="text/html")
    response.headers["X-Robots-Tag"] = "noindex"
    # The page shows this browser's own answer: never kept by a shared cache.
    response.cache_control.no_store = True
    return response


def _message(title: str, paragraphs: list[str], status: int, kept: str = "", back: str = "") -> Response:
    return _page("message.html.j2", status, title=title, paragraphs=paragraphs, kept=kept, back=back)


def _refused(error: BadToken, kept: str = "") -> Response:
    return _message("This link does not work", [str(error), "Try the link in the email again, or copy all of it "
                    "into your browser's address bar."], 400, kept)


def _issue_for(session: Session, slug: str) -> Issue | None:
    issue = issues.find_issue(session, slug)
    return issue


def _limited(kept: str) -> Response | None:
    limiter: RateLimiter = current_app.extensions["answers.limiter"]
    if limiter.allow(request.remote_addr or "unknown"):
        return None
    return _message("Too many answers at once", [
        "We have had a lot of answers from your network in the last few minutes, so we cannot take this one now.",
        "Wait ten minutes and send it again."], 429, kept)


# --- "Was this newsletter useful?" ------------------------------------------------------------------


def _feedback_page(issue: Issue, token: str, chosen: str, earlier: Usefulness | None, *, status: int = 200,
                   errors: list[tuple[str, str]] | None = None, comment: str = "") -> Response:
    return _page("feedback.html.j2", status, issue=issue, issue_url=web_url(pages.settings(), issue.slug),
                 action=url_for("answers.send_feedback", token=token), chosen=chosen,
                 earlier=FEEDBACK_WORDS[earlier.value] if earlier else "", words=FEEDBACK_WORDS,
                 errors=errors or [], comment=comment, max_comment=comments.MAX_COMMENT)


def _open_feedback(session: Session, token: str, kept: str = "") -> tuple[Issue, links.FeedbackLink] | Response:
    try:
        link = links.read_feedback(pages.settings(), token)
    except BadToken as error:
        return _refused(error, kept)
    issue = _issue_for(session, link.slug)
    if issue is None:
        return _message("This newsletter is no longer here", [
            "The newsletter this link was for has been removed, so it does not take answers."], 404, kept)
    if not is_public(issue):
        return _message("This newsletter does not take answers yet", [NOT_SENT], 409, kept)
    if not issue.feedback:
        return _message("This newsletter does not ask for feedback", [
            "The team turned off “Was this newsletter useful?” for this issue."], 409, kept)
    return issue, link


def _earlier_feedback(session: Session, issue_id: int) -> Usefulness | None:
    """The answer this browser gave before, so the page shows it and a new one replaces it."""
    value = _browser_value()
    return answers.current_feedback(session, issue_id, answers.browser_hash(value)) if value else None


@answer_pages.get("/answer/feedback/<token>")
def feedback(token: str) -> Response:
    """The form, with the answer the link was for chosen. Opening it counts nothing."""
    with pages.session_scope() as session:
        opened = _open_feedback(session, token)
        if isinstance(opened, Response):
            return opened
        issue, link = opened
        earlier = _earlier_feedback(session, issue.id)
        return _feedback_page(issue, token, link.answer.value, earlier)


@answer_pages.post("/answer/feedback/<token>")
@csrf_exempt
def send_feedback(token: str) -> Response:
    chosen = request.form.get("answer", "")
    typed = request.form.get("comment", "")
    with pages.session_scope() as session:
        opened = _open_feedback(session, token, kept=typed)
        if isinstance(opened, Response):
            return opened
        issue, _link = opened
        errors: list[tuple[str, str]] = []
        if chosen not in FEEDBACK_WORDS:
            errors.append(("answer-useful", "Choose whether this newsletter was useful"))
        try:
            comment = comments.clean(typed)
        except comments.CommentRefused as refused:
            errors.append(("comment", str(refused)))
            typed = refused.kept
        if errors:
            return _feedback_page(issue, token, chosen, _earlier_feedback(session, issue.id), status=400,
                                  errors=errors, comment=typed)
        if (limited := _limited(typed)) is not None:
            return limited
        value = _browser_value() or secrets.token_urlsafe(24)
        answers.record_feedback(session, issue.id, answers.browser_hash(value), Usefulness(chosen))
        if comment:
            answers.add_comment(session, issue.id, CommentSource.FEEDBACK, comment, answer=chosen)
    response = redirect(url_for("answers.feedback_sent", token=token, comment="1" if comment else None), 303)
    return _remember(response, value)  # type: ignore[arg-type]


@answer_pages.get("/answer/feedback/<token>/sent")
def feedback_sent(token: str) -> Response:
    with pages.session_scope() as session:
        opened = _open_feedback(session, token)
        if isinstance(opened, Response):
            return opened
        issue, _link = opened
        earlier = _earlier_feedback(session, issue.id)
        return _page("sent.html.j2", title="Thank you", issue=issue,
                     issue_url=web_url(pages.settings(), issue.slug),
                     answered=FEEDBACK_WORDS[earlier.value] if earlier else "",
                     commented=request.args.get("comment") == "1",
                     change_url=url_for("answers.feedback", token=token), results_note="")


# --- polls ------------------------------------------------------------------------------------------


def _open_poll(session: Session, token: str, kept: str = "") -> tuple[Issue, links.PollLink, PollBlock, str] | Response:
    try:
        link = links.read_poll(pages.settings(), token)
    except BadToken as error:
        return _refused(error, kept)
    issue = _issue_for(session, link.slug)
    if issue is None:
        return _message("This newsletter is no longer here", [
            "The newsletter this poll was in has been removed, so it does not take answers."], 404, kept)
    block = issue.blocks[link.index] if 0 <= link.index < len(issue.blocks) else None
    if block is None or block.get("type") != "poll":
        return _message("This poll is not in the newsletter", [
            "The newsletter no longer has this poll, so it does not take answers."], 404, kept)
    if not is_public(issue):
        return _message("This poll does not take answers yet", [NOT_SENT], 409, kept)
    poll = PollBlock.model_validate(block, context={"stored": True})
    return issue, link, poll, answers.poll_key(issue, link.index)


def _choice_value(choice: int | None) -> str:
    return links.OTHER if choice is None else str(choice)


def _poll_page(session: Session, issue: Issue, token: str, poll: PollBlock, key: str, chosen: str, *,
               status: int = 200, errors: list[tuple[str, str]] | None = None, other_text: str = "") -> Response:
    settings = pages.settings()
    closed = polls.is_closed(poll, polls.today(settings))
    value = _browser_value()
    answered, earlier = answers.current_poll_answer(session, issue.id, key, answers.browser_hash(value)) \
        if value else (False, None)
    total, shown = polls.results(poll, answers.poll_counts(session, issue.id).get(key, {})) if closed else (0, ())
    return _page("poll.html.j2", status, issue=issue, issue_url=web_url(settings, issue.slug), poll=poll,
                 action=url_for("answers.send_poll", token=token), chosen=chosen, closed=closed, total=total,
                 results=shown, earlier=_label(poll, earlier) if answered else "", errors=errors or [],
                 other_text=other_text, max_other=comments.MAX_OTHER, other_label=polls.OTHER_LABEL)


def _label(poll: PollBlock, choice: int | None) -> str:
    if choice is None:
        return polls.OTHER_LABEL
    return poll.options[choice] if 0 <= choice < len(poll.options) else ""


def _closed_refusal(poll: PollBlock, kept: str) -> Response:
    when = poll.closes.strftime("%A %-d %B %Y") if poll.closes else ""
    return _message("This poll has closed", [
        f"This poll closed on {when}, so it takes no more answers.",
        "Thank you for wanting to answer. The results are on the newsletter's web page."], 409, kept)


@answer_pages.get("/answer/poll/<token>")
def poll(token: str) -> Response:
    """The poll with the answer the link was for chosen (or its results once closed). Opening it counts nothing."""
    with pages.session_scope() as session:
        opened = _open_poll(session, token)
        if isinstance(opened, Response):
            return opened
        issue, link, block, key = opened
        return _poll_page(session, issue, token, block, key, _choice_value(link.choice))


@answer_pages.post("/answer/poll/<token>")
@csrf_exempt
def send_poll(token: str) -> Response:
    chosen = request.form.get("choice", "")
    typed = request.form.get("other", "")
    with pages.session_scope() as session:
        opened = _open_poll(session, token, kept=typed)
        if isinstance(opened, Response):
            return opened
        issue, _link, block, key = opened
        if polls.is_closed(block, polls.today(pages.settings())):
            return _closed_refusal(block, typed)
        choices = {str(n) for n in range(len(block.options))} | ({links.OTHER} if block.other else set())
        errors: list[tuple[str, str]] = []
        other = ""
        if chosen not in choices:
            errors.append(("choice-0", "Choose an answer"))
        elif chosen == links.OTHER:
            try:
                other = comments.clean(typed, limit=comments.MAX_OTHER, what="Your answer")
            except comments.CommentRefused as refused:
                errors.append(("other", str(refused)))
                typed = refused.kept
            else:
                if not other:
                    errors.append(("other", f"Write your answer in the box, or choose one of the answers above"))
        elif typed.strip():
            errors.append(("other", f"You wrote an answer in the box but chose “{block.options[int(chosen)]}”. "
                                    f"Choose “{polls.OTHER_LABEL}” to send what you wrote, or empty the box"))
        if errors:
            return _poll_page(session, issue, token, block, key, chosen, status=400, errors=errors, other_text=typed)
        if (limited := _limited(typed)) is not None:
            return limited
        value = _browser_value() or secrets.token_urlsafe(24)
        choice = None if chosen == links.OTHER else int(chosen)
        answers.record_poll_answer(session, issue.id, key, answers.browser_hash(value), choice)
        if other:
            answers.add_comment(session, issue.id, CommentSource.POLL, other, poll_key=key)
    return _remember(redirect(url_for("answers.poll_sent", token=token), 303), value)  # type: ignore[arg-type]


@answer_pages.get("/answer/poll/<token>/sent")
def poll_sent(token: str) -> Response:
    with pages.session_scope() as session:
        opened = _open_poll(session, token)
        if isinstance(opened, Response):
            return opened
        issue, _link, block, key = opened
        value = _browser_value()
        answered, earlier = answers.current_poll_answer(session, issue.id, key, answers.browser_hash(value)) \
            if value else (False, None)
        note = (f"The results will be on the newsletter's web page after the poll closes on "
                f"{block.closes.strftime('%A %-d %B %Y')}." if block.closes else "")
        return _page("sent.html.j2", title="Thank you", issue=issue, issue_url=web_url(pages.settings(), issue.slug),
                     answered=_label(block, earlier) if answered else "", commented=False,
                     change_url=url_for("answers.poll", token=token), results_note=note)
