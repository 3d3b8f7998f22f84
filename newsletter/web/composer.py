"""The team's composer: the issues list, the block editor, preview, checks, test sends and approval.

Every page is server-rendered and works without JavaScript: each view reads the form, calls
`newsletter.issues.editing` or `workflow`, and redirects (post/redirect/get), so a reload never
repeats an action. With JavaScript, htmx (templates/web/static/vendor/) sends the same forms from the
issue page itself and the block views answer with fragments instead (`HX-Request`): a block form
opened in place, a block card after a save, the block list after an add, move or delete, and the
checks, next steps and preview panels swapped alongside, so an officer composes a whole issue without
leaving the page. `team.js` adds focus management, drag-and-drop ordering, live Markdown preview and
a warning before leaving unsaved work.
"""

from __future__ import annotations

import hashlib
import json
import re
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
from newsletter.issues.media import MEDIA_PREFIX, MediaError, store_bytes
from newsletter.issues.models import Issue, IssueStatus
from newsletter.issues.service import rendered
from newsletter.render import markdown
from newsletter.review import service as review
from newsletter.web import pages
from newsletter.web import review as review_pages
from newsletter.web.auth import approver_required, current_user, login_required
from newsletter.web.blockforms import FORMS, block_from_form, form_values, summary
from newsletter.web.pages import render_team
from newsletter.web import reader_comments
from newsletter.web.richtext import richtext

composer = Blueprint("composer", __name__, url_prefix="/team")
# The issue details' fields as their form labels them, for the messages about them.
DETAIL_LABELS = {"title": "Title", "subject": "Email subject", "preheader": "Preview text", "date": "Issue date",
                 "language": "Language", "slug": "Web address"}
composer.register_blueprint(richtext)  # the text editor's conversions, under /team/richtext/

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
        # A form that shows the box says so, since an unticked box sends nothing.
        feedback=request.form.get("feedback") == "1" if request.form.get("feedback_shown") else None,
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
    return render_team("issue_new.html.j2", title="New issue", values=values, errors=errors,
                       labels=DETAIL_LABELS), 400 if errors else 200


def _editor_context(session: Session, issue: Issue) -> dict[str, Any]:
    """What the issue page and its fragments show: blocks with their findings, checks, actions, preview."""
    report = _checks(issue)
    comments = review.comments_by_block(session, issue.id)
    version = store.content_version(issue)
    return dict(
        issue=issue, rows=_rows(issue, report, comments), report=report,
        block_forms=[FORMS[t] for t in BLOCK_TYPES], status_words=STATUS_WORDS,
        names=_users(session, issue.created_by_id, issue.approved_by_id),
        editable=issue.status in editing.EDITABLE, settings=pages.settings(),
        self_approval=pages.settings().allow_self_approval, version=version,
        preview_src=url_for("composer.preview_email", slug=issue.slug, v=version),
    )


@composer.route("/issues/<slug>")
@login_required
def edit(slug: str) -> str:
    with pages.session_scope() as session:
        issue = _issue(session, slug)
        comments = review.comments_by_block(session, issue.id)
        return render_team(
            "editor.html.j2", title=f"Edit: {issue.title}", **_editor_context(session, issue),
            review_links=review.active_links(session, issue.id, pages.settings()), general_comments=comments.get("", []),
            new_review_url=browser_session.pop("new_review_url", None), moved=request.args.get("moved"),
            listening=reader_comments.panel(session, issue),
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
        flash(f"{DETAIL_LABELS.get(field, field.capitalize())}: {message}", "error")
    return redirect(url_for("composer.edit", slug=slug))


# --- blocks -----------------------------------------------------------------------------------------


def _in_place() -> bool:
    """The request came from htmx on the issue page: answer with a fragment, not a page or a redirect."""
    return request.headers.get("HX-Request") == "true"


def block_version(block: dict[str, Any]) -> str:
    """A fingerprint of one block as stored. A block form carries the version it was opened on, so a save
    over someone else's change is noticed and shown instead of silently replacing it."""
    encoded = json.dumps(block, sort_keys=True, ensure_ascii=False, default=str).encode()
    return hashlib.sha256(encoded).hexdigest()[:16]


# An image uploaded with a form that then came back with a mistake is kept in the media folder under its
# content hash and named by a hidden field, so the officer neither uploads it again nor loses it.
_UPLOADED = re.compile(r"/media/[0-9a-f]{20}\.(png|jpg|gif|webp)")


def _uploads(block_type: str) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """Images for the form's picture fields: addresses by field, refusals by field, and file names by field.

    A file chosen now wins; then an address typed in the field; then an image uploaded earlier with this
    form (before a mistake sent it back), named by the hidden `<field>_uploaded`.
    """
    found: dict[str, str] = {}
    errors: dict[str, str] = {}
    names: dict[str, str] = {}
    media_dir = pages.settings().media_dir
    for item in FORMS[block_type].fields:
        if item.kind != "image":
            continue
        upload = request.files.get(f"{item.name}_file")
        if upload is not None and upload.filename:
            try:
                found[item.name] = store_bytes(upload.read(), upload.filename, media_dir)
                names[item.name] = upload.filename.replace("\\", "/").rsplit("/", 1)[-1][:100]
            except MediaError as error:
                errors[item.name] = str(error)
            continue
        if request.form.get(item.name, "").strip():
            continue
        earlier = request.form.get(f"{item.name}_uploaded", "")
        if _UPLOADED.fullmatch(earlier) and (media_dir / earlier.removeprefix(MEDIA_PREFIX)).is_file():
            found[item.name] = earlier
            names[item.name] = request.form.get(f"{item.name}_uploaded_name", "")[:100] or "your image"
    return found, errors, names


# Field ids in a form opened in place carry the block's key, so two forms open on one page never share an
# id (a label would name the wrong field). Only attributes that hold ids are touched.
_ID_ATTRIBUTES = re.compile(r'(\s(?:id|for|aria-describedby|aria-labelledby|aria-controls|data-markdown-preview|href)=")([^"]*)"')
_ID_TOKENS = re.compile(r"(^|[\s#])((?:field|hint|error|preview|label)-)")


def _prefix_ids(html: str, prefix: str) -> str:
    def attribute(match: re.Match[str]) -> str:
        value = _ID_TOKENS.sub(lambda m: f"{m.group(1)}{prefix}{m.group(2)}", match.group(2))
        return f'{match.group(1)}{value}"'

    return _ID_ATTRIBUTES.sub(attribute, html)


@dataclass(frozen=True)
class Conflict:
    """Someone else saved (or deleted) the block after this form was opened: what they left, in words."""

    message: str
    theirs: list[tuple[str, str]]


def _conflict(block: dict[str, Any] | None) -> Conflict:
    if block is None:
        return Conflict("Someone else deleted this block while you were editing it. Your text is still in the "
                        "form below: save it to add it back as a new block, or cancel to leave it out.", [])
    form = FORMS[block["type"]]
    values = form_values(block)
    theirs = [(item.label, values.get(item.name, "")) for item in form.fields if values.get(item.name, "")]
    return Conflict("Someone else saved this block while you were editing it, so your changes were not saved. "
                    "Their version is below; yours is still in the form. Save again to replace theirs with "
                    "yours, or cancel to keep theirs.", theirs)


def _block_form(issue: Issue, block_type: str, values: dict[str, str], errors: dict[str, str], key: str | None,
                position: int | None, status: int = 200, *, version: str = "", conflict: Conflict | None = None,
                uploaded_names: dict[str, str] | None = None) -> tuple[str, int]:
    """The block form: a page of its own, or (for htmx) the form alone, to open inside the issue page."""
    form = FORMS[block_type]
    verb = "Edit" if key else "Add"
    in_place = _in_place()
    html = render_team("block_form.html.j2", title=f"{verb} {form.title.lower()}: {issue.title}", issue=issue,
                       form=form, values=values, errors=errors, key=key, position=position, in_place=in_place,
                       block_version=version, conflict=conflict, uploaded_names=uploaded_names or {},
                       block_number=(editing.keys_of(issue).index(key) + 1) if key in editing.keys_of(issue) else None)
    if in_place:
        html = _prefix_ids(html, f"{key or 'new'}-")
        # A form coming back in place (a mistake, a conflict) is the answer the page asked for: 200, so htmx
        # swaps it in and the browser logs no failed request. Only a real save sends the blockSaved event.
        status = 200
    return html, status


def _panels(session: Session, issue: Issue, template: str, status_message: str, **extra: Any) -> Response:
    """An htmx answer: the changed part of the page and, swapped out of band, the checks, next steps and
    preview that follow every change."""
    context = _editor_context(session, issue)
    keys = editing.keys_of(issue)
    shown = extra.get("key") or str(extra.get("focus", "")).removeprefix("edit-").removeprefix("move-").removeprefix("block-")
    shown = next((key for key in keys if shown == key or shown.startswith(f"{key}-")), None)
    if shown is not None:  # the preview opens at the block just changed
        context["preview_src"] += f"#preview-block-{keys.index(shown) + 1}"
    html = render_team(template, **context, status_message=status_message, **extra)
    response = Response(html, mimetype="text/html")
    response.headers["HX-Trigger"] = json.dumps({"blockSaved": {"message": status_message}})
    return response


def _list_changed(session: Session, issue: Issue, message: str, focus: str, moved: str | None = None) -> Response:
    """htmx's answer to a block added, moved or deleted: the list, with focus where the officer expects it."""
    response = _panels(session, issue, "editor_list_update.html.j2", message, focus=focus, moved=moved)
    response.headers["HX-Retarget"] = "#block-list"
    response.headers["HX-Reswap"] = "outerHTML"
    return response


def _save_block(session: Session, issue: Issue, block_type: str, key: str | None, position: int | None,
                change: Callable[[dict[str, Any]], Any]) -> tuple[Any, Any]:
    """Read the posted form into a block and apply `change` to the issue.

    Returns (a response to send instead, None) when the form has mistakes (shown again with what was
    typed, nothing saved, an uploaded image kept) or the issue can no longer change; otherwise
    (None, what `change` returned).
    """
    uploaded, errors, names = _uploads(block_type)
    result = None
    try:
        result = change(block_from_form(block_type, request.form, uploaded))
    except editing.BlockInvalid as error:
        errors = {**error.fields, **errors}
    except editing.NotEditable as error:
        if _in_place():
            return _block_form(issue, block_type, request.form.to_dict(), {"block": str(error)}, key, position,
                               409, version=request.form.get("block_version", "")), None
        flash(str(error), "error")
        return redirect(url_for("composer.edit", slug=issue.slug)), None
    if errors:
        session.rollback()
        values = request.form.to_dict()
        for name, address in uploaded.items():
            values[f"{name}_uploaded"] = address
            values[f"{name}_uploaded_name"] = names.get(name, "")
        return _block_form(issue, block_type, values, errors, key, position, 400,
                           version=request.form.get("block_version", ""), uploaded_names=names), None
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
            return _block_form(issue, block_type, {}, {}, None, position)
        page, result = _save_block(session, issue, block_type, None, position,
                                   lambda raw: editing.add_block(issue, raw, position))
        if page is not None:
            return page
        key, notice = result
        if _in_place():
            return _list_changed(session, issue, _said(f"Added the {FORMS[block_type].title.lower()} block.", notice),
                                 focus=f"edit-{key}")
    _notice(notice)
    flash(f"Added the {FORMS[block_type].title.lower()} block.")
    _saved(block_type)
    return redirect(url_for("composer.edit", slug=slug, _anchor=f"block-{key}"))


def _said(message: str, notice: str | None) -> str:
    return f"{message} {notice}" if notice else message


@composer.route("/issues/<slug>/blocks/start", methods=["POST"])
@login_required
def start_block(slug: str) -> Any:
    """The "Add a block" form on the issue page (htmx): a block with nothing to fill in is added at once; any
    other opens its empty form in place. Without JavaScript the same form asks for the form page."""
    block_type = request.form.get("type", "")
    if block_type not in FORMS:
        abort(400, description=f"Choose a block type: {', '.join(BLOCK_TYPES)}.")
    position = request.form.get("at", type=int)
    with pages.session_scope() as session:
        issue = _issue(session, slug)
        if FORMS[block_type].fields:
            if not _in_place():
                return redirect(url_for("composer.new_block", slug=slug, type=block_type, at=position))
            return _block_form(issue, block_type, {}, {}, None, position)
        try:
            key, notice = editing.add_block(issue, {"type": block_type}, position)
        except editing.NotEditable as error:
            flash(str(error), "error")
            return redirect(url_for("composer.edit", slug=slug))
        message = _said(f"Added the {FORMS[block_type].title.lower()} block.", notice)
        if _in_place():
            return _list_changed(session, issue, message, focus=f"edit-{key}")
    flash(message)
    return redirect(url_for("composer.edit", slug=slug, _anchor=f"block-{key}"))


@composer.route("/issues/<slug>/blocks/<key>", methods=["GET", "POST"])
@login_required
def edit_block(slug: str, key: str) -> Any:
    with pages.session_scope() as session:
        issue = _issue(session, slug)
        try:
            block = editing.block_at(issue, key)
        except editing.UnknownBlock:
            if request.method == "POST" and request.form.get("type") in FORMS:
                # Deleted by someone else while this form was open: keep what was typed, offer to add it back.
                block_type = request.form["type"]
                return _block_form(issue, block_type, request.form.to_dict(), {}, None, None, 409,
                                   conflict=_conflict(None))
            abort(404)
        block_type = block["type"]
        current = block_version(block)
        if request.method == "GET":
            return _block_form(issue, block_type, form_values(block), {}, key, None, version=current)
        opened_on = request.form.get("block_version")
        if opened_on is not None and opened_on != current:
            # Saved by someone else since this form was opened: nothing is overwritten unseen.
            values = request.form.to_dict()
            values["block_version"] = current
            return _block_form(issue, block_type, values, {}, key, None, 409, version=current,
                               conflict=_conflict(block))
        page, notice = _save_block(session, issue, block_type, key, None,
                                   lambda raw: editing.replace_block(issue, key, raw))
        if page is not None:
            return page
        if _in_place():
            message = _said(f"Saved the {FORMS[block_type].title.lower()} block.", notice)
            response = _panels(session, issue, "editor_block_update.html.j2", message, key=key, moved=None)
            response.headers["HX-Retarget"] = f"#block-{key}"
            response.headers["HX-Reswap"] = "outerHTML"
            return response
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
            if _in_place():
                return _list_changed(session, issue, "That block was deleted by someone else.", focus="blocks-title")
            abort(404)
        direction = request.form.get("direction")
        to = {"up": index - 1, "down": index + 1}.get(direction or "", request.form.get("to", type=int))
        if to is None:
            abort(400, description="Say where to move the block.")
        notice = refused = None
        try:
            notice = editing.move_block(issue, key, to)
        except editing.NotEditable as error:
            refused = str(error)
        position = editing.keys_of(issue).index(key) + 1
        moved = f"{key}-{direction or 'to'}"
        if _in_place():
            # A Move button keeps focus, so Enter again moves it again; a block dragged into place takes focus
            # itself, so its new place is in view and a screen reader hears where it went.
            return _list_changed(session, issue, refused or _said(f"Moved the block to position {position}.", notice),
                                 focus=f"move-{moved}" if direction else f"block-{key}", moved=moved)
        if refused:
            flash(refused, "error")
        _notice(notice)
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
        keys = editing.keys_of(issue)
        following = keys[keys.index(key) + 1] if key in keys and keys.index(key) + 1 < len(keys) else None
        category, notice = "message", None
        try:
            block_type = editing.block_at(issue, key)["type"]
            notice = editing.delete_block(issue, key)
            message = f"Deleted the {FORMS[block_type].title.lower()} block."
        except editing.UnknownBlock:
            message = "That block was already deleted."
        except editing.NotEditable as error:
            message, category = str(error), "error"
        if _in_place():
            return _list_changed(session, issue, _said(message, notice),
                                 focus=f"edit-{following}" if following else "blocks-title")
        _notice(notice)
        flash(message, category)
    return redirect(url_for("composer.edit", slug=slug, _anchor="blocks"))


@composer.route("/markdown-preview", methods=["POST"])
@login_required
def markdown_preview() -> Response:
    """What a Markdown field will look like, sanitised exactly as the email and web view sanitise it."""
    html = markdown.to_html(request.form.get("markdown", "")[:20_000], name="there")  # the email's fallback
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


# Each block is one MJML section, and each section compiles to one outer div 600px wide, after the two of the
# masthead and before the footer's. The preview names them, so the frame can scroll to the block being edited.
_SECTION = re.compile(r"<div\b(?=[^>]*max-width:\s*600px)")


def _block_anchors(html: str, blocks: int) -> str:
    starts = [match.start() for match in _SECTION.finditer(html)]
    if len(starts) != blocks + 3:
        return html  # a shell laid out differently: the preview still shows, without anchors
    for number, at in reversed(list(enumerate(starts[2:2 + blocks], start=1))):
        html = f'{html[:at]}<div id="preview-block-{number}"{html[at + 4:]}'
    return html


@composer.route("/issues/<slug>/preview/email")
@login_required
def preview_email(slug: str) -> Response:
    with pages.session_scope() as session:
        issue = _issue(session, slug)
        html = _block_anchors(rendered(issue, pages.theme(), pages.settings()).html.public, len(issue.blocks))
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
