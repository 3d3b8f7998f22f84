"""The team's composer: the issues list, the block editor, preview, checks, test sends and approval.

Every page is server-rendered and works without JavaScript; `team.js` adds drag-and-drop ordering,
live Markdown preview and a warning before leaving unsaved work. Each view is small: it reads the
form, calls `newsletter.issues.editing` or `workflow`, and redirects (post/redirect/get), so a
reload never repeats an action.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, request, url_for
from flask import session as browser_session
from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.accounts.models import User
from newsletter.checks.report import CheckReport, Finding
from newsletter.checks.runner import check_issue
from newsletter.delivery import campaigns
from newsletter.issues import editing, store, workflow
from newsletter.issues import approval_mail
from newsletter.issues.blocks import BLOCK_TYPES, InvalidIssue
from newsletter.issues.media import MediaError, store_bytes
from newsletter.issues.models import Issue, IssueStatus
from newsletter.issues.service import rendered
from newsletter.render import markdown
from newsletter.review import service as review
from newsletter.web import pages
from newsletter.web import review as review_pages
from newsletter.web.auth import approver_required, current_user, login_required
from newsletter.web.blockforms import FORMS, block_from_form, form_values, summary
from newsletter.web.pages import render_team

composer = Blueprint("composer", __name__, url_prefix="/team")

STATUS_WORDS = {
    IssueStatus.DRAFT: "Draft",
    IssueStatus.IN_REVIEW: "In review",
    IssueStatus.APPROVED: "Approved",
    IssueStatus.SCHEDULED: "Scheduled",
    IssueStatus.SENDING: "Sending",
    IssueStatus.SENT: "Sent",
    IssueStatus.CANCELLED: "Cancelled",
}


def _issue(session: Session, slug: str) -> Issue:
    issue = store.find_issue(session, slug)
    if issue is None:
        abort(404)
    return issue


def _saved(form_type: str = "") -> None:
    """Tell the browser the form it posted here was saved, so team.js drops its unsaved copy of it."""
    browser_session["saved_form"] = f"{request.path}|{form_type}"


def _notice(text: str | None) -> None:
    if text:
        flash(text, "warning")


@dataclass(frozen=True)
class BlockRow:
    key: str
    position: int
    block: dict[str, Any]
    title: str
    summary: str
    findings: list[Finding]
    comments: list[Any]


def _checks(issue: Issue) -> CheckReport:
    settings = pages.settings()
    theme = pages.theme()
    doc = store.document(issue)
    return check_issue(doc, rendered(issue, theme, settings), theme, readability_min=settings.readability_min_score)


def _rows(issue: Issue, report: CheckReport, comments: dict[str, list[Any]]) -> list[BlockRow]:
    keys = editing.keys_of(issue)
    by_block: dict[int, list[Finding]] = {}
    for finding in report.findings:
        if finding.block is not None:
            by_block.setdefault(finding.block, []).append(finding)
    return [
        BlockRow(key, i + 1, block, FORMS[block["type"]].title, summary(block),
                 sorted(by_block.get(i + 1, []), key=lambda f: f.level != "error"), comments.get(key, []))
        for i, (key, block) in enumerate(zip(keys, issue.blocks))
    ]


def _users(session: Session, *ids: int | None) -> dict[int, str]:
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    return {user_id: name for user_id, name in session.execute(select(User.id, User.name).where(User.id.in_(wanted)))}


# --- the issues list ------------------------------------------------------------------------------


@composer.route("/")
@login_required
def home() -> Response:
    return redirect(url_for("composer.issues"))


@composer.route("/issues")
@login_required
def issues() -> str:
    with pages.session_scope() as session:
        found = store.list_issues(session)
        lists = campaigns.list_names_by_issue(session, [issue.id for issue in found])
        return render_team("issues.html.j2", title="Issues", issues=found, lists=lists, status_words=STATUS_WORDS)


def _details_from_form() -> tuple[editing.Details, dict[str, str]]:
    errors: dict[str, str] = {}
    raw_date = request.form.get("date", "").strip()
    when: date | None = None
    if raw_date:
        try:
            when = date.fromisoformat(raw_date)
        except ValueError:
            errors["date"] = "must be a date like 2026-12-01"
    details = editing.Details(
        title=request.form.get("title", ""), subject=request.form.get("subject", ""),
        preheader=request.form.get("preheader", ""), language=request.form.get("language", "") or "en-GB",
        date=when,
    )
    return details, errors


def _issue_errors(error: InvalidIssue) -> dict[str, str]:
    fields = {}
    for problem in error.problems:
        where, _, message = problem.partition(": ")
        fields[where.removeprefix("field ")] = message
    return fields


@composer.route("/issues/new", methods=["GET", "POST"])
@login_required
def new_issue() -> Any:
    values: dict[str, str] = {"language": "en-GB"}
    errors: dict[str, str] = {}
    if request.method == "POST":
        details, errors = _details_from_form()
        values = request.form.to_dict()
        if not errors:
            try:
                with pages.session_scope() as session:
                    issue = editing.create_draft(session, details, current_user().id)
                    slug = issue.slug
                flash(f"Created the draft “{details.title.strip()}”. Add its blocks below.")
                _saved()
                return redirect(url_for("composer.edit", slug=slug))
            except InvalidIssue as error:
                errors = _issue_errors(error)
    return render_team("issue_new.html.j2", title="New issue", values=values, errors=errors), 400 if errors else 200


@composer.route("/issues/<slug>")
@login_required
def edit(slug: str) -> str:
    with pages.session_scope() as session:
        issue = _issue(session, slug)
        report = _checks(issue)
        comments = review.comments_by_block(session, issue.id)
        rows = _rows(issue, report, comments)
        names = _users(session, issue.created_by_id, issue.approved_by_id)
        links = review.active_links(session, issue.id, pages.settings())
        general = comments.get("", [])
        return render_team(
            "editor.html.j2", title=f"Edit: {issue.title}", issue=issue, rows=rows, report=report,
            block_forms=[FORMS[t] for t in BLOCK_TYPES], status_words=STATUS_WORDS, names=names,
            review_links=links, general_comments=general, editable=issue.status in editing.EDITABLE,
            new_review_url=browser_session.pop("new_review_url", None),
            moved=request.args.get("moved"), settings=pages.settings(),
            self_approval=pages.settings().allow_self_approval, version=store.content_version(issue),
        )


@composer.route("/issues/<slug>/details", methods=["POST"])
@login_required
def save_details(slug: str) -> Any:
    details, errors = _details_from_form()
    if not errors:
        try:
            with pages.session_scope() as session:
                _notice(editing.update_details(_issue(session, slug), details))
            flash("Saved the issue details.")
            _saved()
            return redirect(url_for("composer.edit", slug=slug))
        except InvalidIssue as error:
            errors = _issue_errors(error)
        except editing.NotEditable as error:
            flash(str(error), "error")
            return redirect(url_for("composer.edit", slug=slug))
    for field, message in errors.items():
        flash(f"{field.capitalize()}: {message}", "error")
    return redirect(url_for("composer.edit", slug=slug))


# --- blocks -----------------------------------------------------------------------------------------


def _uploads(block_type: str) -> tuple[dict[str, str], dict[str, str]]:
    """Store any images uploaded with the form; returns their addresses and any refusal, by field."""
    found: dict[str, str] = {}
    errors: dict[str, str] = {}
    for item in FORMS[block_type].fields:
        if item.kind != "image":
            continue
        upload = request.files.get(f"{item.name}_file")
        if upload is None or not upload.filename:
            continue
        try:
            found[item.name] = store_bytes(upload.read(), upload.filename, pages.settings().media_dir)
        except MediaError as error:
            errors[item.name] = str(error)
    return found, errors


def _block_page(issue: Issue, block_type: str, values: dict[str, str], errors: dict[str, str], key: str | None,
                position: int | None, status: int = 200) -> tuple[str, int]:
    form = FORMS[block_type]
    verb = "Edit" if key else "Add"
    return render_team("block_form.html.j2", title=f"{verb} {form.title.lower()}: {issue.title}", issue=issue,
                       form=form, values=values, errors=errors, key=key, position=position), status


def _save_block(session: Session, issue: Issue, block_type: str, key: str | None, position: int | None,
                change: Callable[[dict[str, Any]], Any]) -> tuple[Any, Any]:
    """Read the posted form into a block and apply `change` to the issue.

    Returns (a response to send instead, None) when the form has mistakes (shown again with what was
    typed, nothing saved) or the issue can no longer change; otherwise (None, what `change` returned).
    """
    uploaded, errors = _uploads(block_type)
    raw = block_from_form(block_type, request.form, uploaded)
    result = None
    try:
        result = change(raw)
    except editing.BlockInvalid as error:
        errors = {**error.fields, **errors}
    except editing.NotEditable as error:
        flash(str(error), "error")
        return redirect(url_for("composer.edit", slug=issue.slug)), None
    if errors:
        session.rollback()
        values = {**request.form.to_dict(), **uploaded}
        return _block_page(issue, block_type, values, errors, key, position, 400), None
    return None, result


@composer.route("/issues/<slug>/blocks/new", methods=["GET", "POST"])
@login_required
def new_block(slug: str) -> Any:
    block_type = request.values.get("type", "")
    if block_type not in FORMS:
        abort(400, description=f"Choose a block type: {', '.join(BLOCK_TYPES)}.")
    position = request.values.get("at", type=int)
    with pages.session_scope() as session:
        issue = _issue(session, slug)
        if request.method == "GET":
            return _block_page(issue, block_type, {}, {}, None, position)
        page, result = _save_block(session, issue, block_type, None, position,
                                   lambda raw: editing.add_block(issue, raw, position))
        if page is not None:
            return page
        key, notice = result
    _notice(notice)
    flash(f"Added the {FORMS[block_type].title.lower()} block.")
    _saved(block_type)
    return redirect(url_for("composer.edit", slug=slug, _anchor=f"block-{key}"))


@composer.route("/issues/<slug>/blocks/<key>", methods=["GET", "POST"])
@login_required
def edit_block(slug: str, key: str) -> Any:
    with pages.session_scope() as session:
        issue = _issue(session, slug)
        try:
            block = editing.block_at(issue, key)
        except editing.UnknownBlock:
            abort(404)
        block_type = block["type"]
        if request.method == "GET":
            return _block_page(issue, block_type, form_values(block), {}, key, None)
        page, notice = _save_block(session, issue, block_type, key, None,
                                   lambda raw: editing.replace_block(issue, key, raw))
        if page is not None:
            return page
    _notice(notice)
    flash(f"Saved the {FORMS[block_type].title.lower()} block.")
    _saved()
    return redirect(url_for("composer.edit", slug=slug, _anchor=f"block-{key}"))


@composer.route("/issues/<slug>/blocks/<key>/move", methods=["POST"])
@login_required
def move_block(slug: str, key: str) -> Any:
    with pages.session_scope() as session:
        issue = _issue(session, slug)
        try:
            index = editing.keys_of(issue).index(key)
        except ValueError:
            abort(404)
        direction = request.form.get("direction")
        to = {"up": index - 1, "down": index + 1}.get(direction or "", request.form.get("to", type=int))
        if to is None:
            abort(400, description="Say where to move the block.")
        try:
            _notice(editing.move_block(issue, key, to))
        except editing.NotEditable as error:
            flash(str(error), "error")
        position = editing.keys_of(issue).index(key) + 1
    if request.headers.get("X-Requested-With") == "fetch":
        return {"position": position}
    flash(f"Moved the block to position {position}.")
    # `moved` puts keyboard focus back on the same button, so moving again is one more key press.
    return redirect(url_for("composer.edit", slug=slug, moved=f"{key}-{direction or 'to'}"))


@composer.route("/issues/<slug>/blocks/<key>/delete", methods=["POST"])
@login_required
def delete_block(slug: str, key: str) -> Any:
    with pages.session_scope() as session:
        issue = _issue(session, slug)
        try:
            block_type = editing.block_at(issue, key)["type"]
            _notice(editing.delete_block(issue, key))
            flash(f"Deleted the {FORMS[block_type].title.lower()} block.")
        except editing.UnknownBlock:
            flash("That block was already deleted.")
        except editing.NotEditable as error:
            flash(str(error), "error")
    return redirect(url_for("composer.edit", slug=slug, _anchor="blocks"))


@composer.route("/markdown-preview", methods=["POST"])
@login_required
def markdown_preview() -> Response:
    """What a Markdown field will look like, sanitised exactly as the email and web view sanitise it."""
    html = markdown.to_html(request.form.get("markdown", "")[:20_000], name="Alex")
    return Response(html, mimetype="text/html")


# --- issue actions ----------------------------------------------------------------------------------


@composer.route("/issues/<slug>/duplicate", methods=["POST"])
@login_required
def duplicate(slug: str) -> Response:
    with pages.session_scope() as session:
        copy = editing.duplicate(session, _issue(session, slug), current_user().id)
        new_slug = copy.slug
    flash("This is a new draft copied from the last issue. Change its title, date and blocks.")
    return redirect(url_for("composer.edit", slug=new_slug))


@composer.route("/issues/<slug>/delete", methods=["POST"])
@login_required
def delete(slug: str) -> Response:
    with pages.session_scope() as session:
        issue = _issue(session, slug)
        title = issue.title
        try:
            editing.delete_draft(session, issue)
        except editing.NotEditable as error:
            flash(str(error), "error")
            return redirect(url_for("composer.edit", slug=slug))
    flash(f"Deleted the draft “{title}”.")
    return redirect(url_for("composer.issues"))


def _step(slug: str, move: Callable[[Session, Issue], None], done: str,
          tell: approval_mail.Event | None = None) -> Response:
    """One move along the lifecycle; a move the lifecycle or the rules do not allow is said, not raised."""
    with pages.session_scope() as session:
        try:
            issue = _issue(session, slug)
            move(session, issue)
            if tell is not None:
                review_pages.tell_team(session, tell, issue)
            flash(done)
        except (store.InvalidTransition, workflow.NotAllowed) as error:
            flash(str(error), "error")
    return redirect(url_for("composer.edit", slug=slug))


@composer.route("/issues/<slug>/submit", methods=["POST"])
@login_required
def submit(slug: str) -> Response:
    unresolved = review_pages.confirm_before_submit(slug)
    if unresolved is not None:
        return unresolved
    return _step(slug, lambda _, issue: workflow.submit(issue), "Submitted for review. An approver can now approve it.",
                 approval_mail.Event.SUBMITTED)


def _approve(session: Session, issue: Issue) -> None:
    user = session.get(User, current_user().id)
    assert user is not None
    workflow.check_may_approve(issue, user, pages.settings())
    # The approver approves what they read: the form carries the version of the content it showed.
    if request.form.get("version", "") != store.content_version(issue):
        raise workflow.NotAllowed(
            "This issue was changed after you opened it, so it was not approved. "
            "Read it again (the page now shows the latest version), then approve it."
        )
    if not _checks(issue).ok:
        raise workflow.NotAllowed("Fix the errors in the checks before approving.")
    workflow.approve(issue, user, pages.settings())


@composer.route("/issues/<slug>/approve", methods=["POST"])
@approver_required
def approve(slug: str) -> Response:
    return _step(slug, _approve, "Approved. It can now be scheduled or sent.", approval_mail.Event.APPROVED)


@composer.route("/issues/<slug>/return", methods=["POST"])
@login_required
def return_to_draft(slug: str) -> Response:
    return _step(slug, lambda _, issue: workflow.back_to_draft(issue), "Back to draft.",
                 approval_mail.Event.SENT_BACK)


@composer.route("/issues/<slug>/test-send", methods=["POST"])
@login_required
def test_send(slug: str) -> Response:
    from newsletter.delivery.testsend import InvalidAddress, send_test_copies

    addresses = [a for a in request.form.get("addresses", "").replace(",", "\n").split() if a]
    if not addresses:
        flash("Give at least one email address to send the test to.", "error")
        return redirect(url_for("composer.edit", slug=slug, _anchor="test-send"))
    try:
        with pages.session_scope() as session:
            _issue(session, slug)
            results = send_test_copies(session, slug, addresses, pages.settings(), sent_by=current_user().email)
    except InvalidAddress as error:
        flash(str(error), "error")
        return redirect(url_for("composer.edit", slug=slug, _anchor="test-send"))
    for line in results:
        flash(line, "error" if line.startswith("Could not") else "message")
    return redirect(url_for("composer.edit", slug=slug, _anchor="test-send"))


# --- preview ----------------------------------------------------------------------------------------

PREVIEW_VIEWS = {
    "desktop": "Email, desktop",
    "phone": "Email, phone",
    "dark": "Email, dark mode",
    "forced-dark": "Email, dark mode forced by the app",
    "text": "Plain text",
    "web": "Web page",
}
# The email is shown in a sandboxed frame: its own inline styles are allowed there (email needs them),
# but no script, no forms and no navigation of the composer can come from inside it.
_FRAME_CSP = ("default-src 'none'; img-src 'self' https: http: data:; style-src 'unsafe-inline' 'self'; "
              "font-src 'self' https: data:; frame-ancestors 'self'; sandbox allow-popups allow-popups-to-escape-sandbox")


@composer.route("/issues/<slug>/preview")
@login_required
def preview(slug: str) -> str:
    view = request.args.get("view", "desktop")
    if view not in PREVIEW_VIEWS:
        view = "desktop"
    with pages.session_scope() as session:
        issue = _issue(session, slug)
        text = rendered(issue, pages.theme(), pages.settings()).text.public if view == "text" else None
        return render_team("preview.html.j2", title=f"Preview ({PREVIEW_VIEWS[view].lower()}): {issue.title}",
                           issue=issue, view=view, views=PREVIEW_VIEWS, text=text)


def _frame(body: str) -> Response:
    response = Response(body, mimetype="text/html")
    response.headers["Content-Security-Policy"] = _FRAME_CSP
    return response


# What Gmail's and Outlook's apps do to an email in dark mode when it has no dark styles of its own:
# colours inverted with hues kept, pictures left as they are. It shows where a logo on a transparent
# background or a dark-on-dark link would disappear.
_FORCED_DARK = (
    "<style>html{filter:invert(1) hue-rotate(180deg);background:#fff}"
    "img,picture,video{filter:invert(1) hue-rotate(180deg)}</style>"
)


@composer.route("/issues/<slug>/preview/email")
@login_required
def preview_email(slug: str) -> Response:
    with pages.session_scope() as session:
        html = rendered(_issue(session, slug), pages.theme(), pages.settings()).html.public
    if request.args.get("mode") == "dark":
        # The email's own dark styles, as Apple Mail and Outlook show them, whatever this computer's setting.
        html = html.replace("@media (prefers-color-scheme: dark)", "@media all")
    elif request.args.get("mode") == "forced-dark":
        html = html.replace("</head>", _FORCED_DARK + "</head>", 1)
    return _frame(html)


@composer.route("/issues/<slug>/preview/web")
@login_required
def preview_web(slug: str) -> Response:
    with pages.session_scope() as session:
        html = rendered(_issue(session, slug), pages.theme(), pages.settings()).web_html
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = _FRAME_CSP.replace("style-src 'unsafe-inline' 'self'", "style-src 'self'")
    return response
