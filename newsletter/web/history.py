"""Never lose work, in the composer: each issue's version history, and block drafts saved as they are typed.

History: every save of an issue is a version (newsletter/issues/history.py records it whatever saved
it). These pages list them newest first with who saved each and what changed, show one read-only as
the web copy with what changed since the one before, and restore one: a restore is an edit like any
other (only while the issue can be changed; an approved issue goes back for approval) and is itself a
new version, so a restore can be undone too.

Drafts: autosave.js posts the open block form here as it is typed. The values are kept per person,
issue and block (newsletter/issues/drafts.py) and never change the issue; the form offers them back
when they differ from the saved block, and saving the block deletes them.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, g, has_request_context, jsonify, redirect, request, url_for
from sqlalchemy.orm import Session

from newsletter import localtime
from newsletter.issues import drafts, editing, history, store
from newsletter.issues.blocks import BLOCK_TYPES
from newsletter.issues.models import Issue
from newsletter.render.pipeline import render_web
from newsletter.web import pages
from newsletter.web.auth import current_user, login_required
from newsletter.web.blockforms import FORMS
from newsletter.web.pages import render_team

versions = Blueprint("history", __name__, url_prefix="/team")

# The web copy of a version is shown in a sandboxed frame, as the composer's preview shows the issue.
_FRAME_CSP = ("default-src 'none'; img-src 'self' https: http: data:; style-src 'self'; font-src 'self' https: data:; "
              "frame-ancestors 'self'; sandbox allow-popups allow-popups-to-escape-sandbox")
# Fields of a block form that are not the block's content.
_NOT_TYPED = {"csrf_token", "type", "at", "version"}


def _signed_in() -> history.Actor | None:
    if not has_request_context():
        return None
    user = g.get("user")
    return history.Actor(user.id, user.name) if user is not None else None


@versions.record_once
def _name_who_saves(_state: Any) -> None:
    history.set_actor_lookup(_signed_in)


def _issue(session: Session, slug: str) -> Issue:
    issue = store.find_issue(session, slug)
    if issue is None:
        abort(404)
    return issue


def _titles() -> dict[str, str]:
    return {t: f.title for t, f in FORMS.items()}


# --- history ----------------------------------------------------------------------------------------


@versions.route("/issues/<slug>/history")
@login_required
def history_page(slug: str) -> str:
    with pages.session_scope() as session:
        issue = _issue(session, slug)
        found = history.versions(session, issue.id)
        return render_team("history.html.j2", title=f"History: {issue.title}", issue=issue, versions=found,
                           editable=issue.status in editing.EDITABLE)


def _one(session: Session, issue: Issue, version_id: int) -> tuple[history.NumberedVersion, Any]:
    found = history.version(session, issue.id, version_id)
    if found is None:
        abort(404)
    return found


@versions.route("/issues/<slug>/history/<int:version_id>")
@login_required
def version_page(slug: str, version_id: int) -> str:
    with pages.session_scope() as session:
        issue = _issue(session, slug)
        numbered, before = _one(session, issue, version_id)
        changes = history.changes(before.content if before is not None else None, numbered.version.content)
        latest = history.versions(session, issue.id)[0].version.id
        return render_team("version.html.j2", title=f"Version {numbered.number}: {issue.title}", issue=issue,
                           numbered=numbered, changes=changes, is_latest=numbered.version.id == latest,
                           editable=issue.status in editing.EDITABLE, block_titles=_titles())


@versions.route("/issues/<slug>/history/<int:version_id>/web")
@login_required
def version_web(slug: str, version_id: int) -> Response:
    with pages.session_scope() as session:
        issue = _issue(session, slug)
        numbered, _ = _one(session, issue, version_id)
        try:
            doc = history.document(issue, numbered.version.content)
        except ValueError:
            return Response("<p>This version cannot be shown with today's blocks.</p>", mimetype="text/html")
        html = render_web(doc, issue.slug, pages.theme(), pages.settings())
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = _FRAME_CSP
    return response


@versions.route("/issues/<slug>/history/<int:version_id>/restore", methods=["POST"])
@login_required
def restore(slug: str, version_id: int) -> Response:
    with pages.session_scope() as session:
        issue = _issue(session, slug)
        numbered, _ = _one(session, issue, version_id)
        try:
            notice = history.restore(session, issue, numbered)
        except (editing.NotEditable, history.RestoreRefused) as error:
            flash(str(error), "error")
            return redirect(url_for("history.version_page", slug=slug, version_id=version_id))
    if notice:
        flash(notice, "warning")
    flash(f"Restored version {numbered.number}. The issue is now as it was then; this is saved as a new version.")
    return redirect(url_for("history.history_page", slug=slug))


# --- drafts -----------------------------------------------------------------------------------------


def _draft_key(issue: Issue, key: str) -> str:
    if key.startswith("new-") and key[4:] in BLOCK_TYPES:
        return key
    if key in editing.keys_of(issue):
        return key
    abort(404)


def _saved_words(draft: drafts.BlockDraft) -> dict[str, str]:
    at = localtime.shown(draft.saved_at, "%H:%M", pages.settings())
    return {"saved_at": at, "saved_iso": draft.saved_at.isoformat()}


@versions.route("/issues/<slug>/drafts/<key>", methods=["GET"])
@login_required
def draft(slug: str, key: str) -> Response:
    with pages.session_scope() as session:
        issue = _issue(session, slug)
        found = drafts.find(session, current_user().id, issue.id, _draft_key(issue, key))
        if found is None:
            return jsonify({"draft": None})
        return jsonify({"draft": {"fields": found.fields, **_saved_words(found)}})


@versions.route("/issues/<slug>/drafts/<key>", methods=["POST"])
@login_required
def keep_draft(slug: str, key: str) -> Any:
    fields = {name: value for name, value in request.form.items() if name not in _NOT_TYPED}
    with pages.session_scope() as session:
        issue = _issue(session, slug)
        try:
            kept = drafts.keep(session, current_user().id, issue.id, _draft_key(issue, key), fields)
        except drafts.DraftRefused as error:
            return jsonify({"error": str(error)}), 400
        return jsonify(_saved_words(kept))


@versions.route("/issues/<slug>/drafts/<key>/discard", methods=["POST"])
@login_required
def discard_draft(slug: str, key: str) -> Any:
    with pages.session_scope() as session:
        issue = _issue(session, slug)
        drafts.discard(session, current_user().id, issue.id, _draft_key(issue, key))
    if request.headers.get("X-Requested-With") == "fetch":
        return jsonify({"discarded": True})
    return redirect(url_for("composer.edit", slug=slug))


__all__ = ["versions"]
