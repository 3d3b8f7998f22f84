"""The team's view of lists and subscribers: counts, each list's page with CSV import and export,
finding a person, their consent history and, for approvers, unsubscribing or erasing them.

Every action calls the subscribers package through its API (subscribers/api.py), as `newsletter
lists ...` and `newsletter subscribers ...` do, so the consent rules are the same at the terminal and
in the browser. An import's report and problems CSV name people, so they are kept by
subscribers/import_reports.py, shown only to the person who ran the import and deleted after a day.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from flask import Blueprint, Response, abort, current_app, flash, redirect, request, send_file, url_for
from sqlalchemy.orm import Session
from werkzeug.utils import secure_filename

from newsletter.web.auth import approver_required, current_user, login_required
from newsletter.web.pages import render_team, session_scope
from subscribers import api
from subscribers.api import (
    ConsentSource,
    ImportRefused,
    ImportReports,
    InvalidList,
    ListNotFound,
    ListSlugTaken,
    MailingList,
    Subscriber,
    SubscriberStatus,
    SubscriptionStatus,
)

team_lists = Blueprint("team_lists", __name__, url_prefix="/team")

# The two encodings a council officer meets: Excel's "CSV UTF-8" and older Excel's Windows encoding.
ENCODINGS = {
    "utf-8": "UTF-8 (most files, and Excel's “CSV UTF-8”)",
    "cp1252": "Windows (older Excel's “CSV (comma delimited)”)",
}
EXPORT_STATUSES = {
    "confirmed": "Confirmed (the people an issue can reach)",
    "unconfirmed": "Unconfirmed",
    "unsubscribed": "Unsubscribed",
    "all": "Everyone on the list",
}
LIST_LABELS = {"slug": "Slug:", "name": "Name:", "description": "Description:"}
IMPORT_LABELS = {"file": "CSV file:", "consent": "Where and how they agreed:", "confirmed": "Already confirmed:",
                 "encoding": "File encoding:", "email_column": "Column with the email addresses:",
                 "name_column": "Column with the names:"}
# The importer speaks to the command line; on the form, the same advice names the form's own fields.
_FOR_THE_FORM = (
    ("say which column it is with --map 'COLUMN=email'",
     "type its heading in “Column with the email addresses”"),
    ("import it with --encoding cp1252 (the usual Windows encoding)",
     "choose “Windows” as the file encoding"),
    ("--map names a column the file does not have", "There is no column with the heading you typed"),
)
# A page of problems stays readable; the downloadable CSV has every one.
PROBLEMS_SHOWN = api.PROBLEMS_KEPT
QUERY_MAX = 320


def _sentence(error: Exception) -> str:
    """The subscribers package's messages continue a sentence ("the slug ..."); a form shows them whole.

    Only a plain first word is capitalised: a message may start with the file's name ("people.csv is empty").
    """
    text = str(error).strip()
    for command_line, form in _FOR_THE_FORM:
        text = text.replace(command_line, form)
    if text.split(" ", 1)[0].isalpha():
        text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "?", "!")) else text + "."


def _reports() -> ImportReports:
    return ImportReports.private(current_app.config.get("IMPORT_REPORTS_DIR"))


def _list_or_404(session: Session, slug: str) -> MailingList:
    try:
        return api.get_list(session, slug)
    except ListNotFound:
        abort(404, description="There is no list at this address. Lists and subscribers shows every list.")


def _subscriber_or_404(session: Session, subscriber_id: int) -> Subscriber:
    person = api.subscriber_by_id(session, subscriber_id)
    if person is None:
        abort(404, description="There is no subscriber at this address: they may have been erased.")
    return person


# --- every list --------------------------------------------------------------------------------------


def _lists_page(values: dict[str, str], errors: dict[str, str], status: int = 200) -> tuple[str, int]:
    with session_scope() as session:
        counts = api.subscription_counts(session)
        rows = [
            (mailing_list, counts.get(mailing_list.id, {}), api.count_sendable(session, [mailing_list.id]))
            for mailing_list in api.all_lists(session)
        ]
        return render_team("lists.html.j2", title="Lists and subscribers", rows=rows,
                           statuses=list(SubscriptionStatus), values=values, errors=errors,
                           labels=LIST_LABELS), status


@team_lists.route("/lists")
@login_required
def lists() -> tuple[str, int]:
    return _lists_page({"visibility": "public", "double_opt_in": "on"}, {})


@team_lists.route("/lists", methods=["POST"])
@approver_required
def create_list() -> Any:
    """The same rules as `newsletter lists create`: api.create_list decides."""
    values = {name: request.form.get(name, "") for name in ("slug", "name", "description", "visibility",
                                                             "double_opt_in")}
    errors: dict[str, str] = {}
    try:
        with session_scope() as session:
            created = api.create_list(
                session, values["slug"].strip(), values["name"], description=values["description"],
                public=values["visibility"] != "private", double_opt_in=values["double_opt_in"] != "off",
            )
            slug, name = created.slug, created.name
    except ListSlugTaken as error:
        errors["slug"] = _sentence(error)
    except InvalidList as error:
        errors[error.field or "name"] = _sentence(error)
    if errors:
        return _lists_page(values, errors, 400)
    flash(f"Created the list “{name}”. Add people by importing a CSV file below.")
    return redirect(url_for("team_lists.list_page", slug=slug))


# --- one list -----------------------------------------------------------------------------------------


def _list_page(slug: str, values: dict[str, str], errors: dict[str, str], status: int = 200) -> tuple[str, int]:
    """What `newsletter lists show` prints, with the import form and the export link."""
    with session_scope() as session:
        mailing_list = _list_or_404(session, slug)
        return render_team(
            "list.html.j2", title=mailing_list.name, mailing_list=mailing_list,
            counts=api.subscription_counts(session)[mailing_list.id],
            people=api.subscriber_status_counts(session, mailing_list.id),
            sendable=api.count_sendable(session, [mailing_list.id]),
            subscription_statuses=list(SubscriptionStatus), subscriber_statuses=list(SubscriberStatus),
            encodings=ENCODINGS, export_statuses=EXPORT_STATUSES, values=values, errors=errors,
            labels=IMPORT_LABELS,
        ), status


@team_lists.route("/lists/<slug>")
@login_required
def list_page(slug: str) -> tuple[str, int]:
    return _list_page(slug, {"encoding": "utf-8"}, {})


@team_lists.route("/lists/<slug>/import", methods=["POST"])
@approver_required
def import_file(slug: str) -> Any:
    """Run the streaming importer on the uploaded file, then show its report (post/redirect/get)."""
    upload = request.files.get("file")
    consent = request.form.get("consent", "").strip()
    confirmed = request.form.get("confirmed") == "yes"
    encoding = request.form.get("encoding", "utf-8")
    email_column = request.form.get("email_column", "").strip()
    name_column = request.form.get("name_column", "").strip()
    values = {"consent": consent, "confirmed": "yes" if confirmed else "", "encoding": encoding,
              "email_column": email_column, "name_column": name_column}
    # The same as `--map 'COLUMN=email'`: for a heading the importer does not recognise.
    mapping = {column: target for column, target in ((email_column, "email"), (name_column, "name")) if column}
    errors: dict[str, str] = {}
    if upload is None or not upload.filename:
        errors["file"] = "Choose the CSV file to import."
    if encoding not in ENCODINGS:
        errors["encoding"] = "Choose the file's encoding from the list."
    # As with `subscribers import --consent`: people are confirmed only when the team says where they agreed,
    # and the wording is what the consent log keeps. Asking for both makes that a deliberate choice.
    if confirmed and not consent:
        errors["consent"] = ("Say where and how these people agreed before marking them confirmed, "
                             "or untick “already confirmed” to store them unconfirmed.")
    elif consent and not confirmed:
        errors["confirmed"] = ("Tick “already confirmed” to mark these people confirmed with this wording, "
                               "or clear the wording to store them unconfirmed.")
    if errors:
        return _list_page(slug, values, errors, 400)
    assert upload is not None and upload.filename
    with session_scope() as session:
        targets = [_list_or_404(session, slug)]
    reports = _reports()
    token = reports.new_token()
    # The file keeps its own name: the importer's messages and the consent log name the file imported.
    filename = secure_filename(upload.filename) or "upload.csv"
    with tempfile.TemporaryDirectory(prefix="newsletter-upload-") as folder:
        path = Path(folder) / filename
        upload.save(path)
        try:
            report = api.import_csv(path, targets, session_scope, consent=consent if confirmed else None,
                                mapping=mapping, encoding=encoding, problems_path=reports.problems_path(token))
        except ImportRefused as error:
            message = _sentence(error)
            errors["email_column" if message.startswith("There is no column with the heading") else "file"] = message
    if errors:
        return _list_page(slug, values, errors, 400)
    reports.save(token, owner=current_user().id, slug=slug, filename=filename, confirmed=confirmed, report=report)
    flash(f"Imported {filename}: {report.rows:,} rows read, {report.problems:,} not imported.",
          "warning" if report.problems else "message")
    return redirect(url_for("team_lists.import_report", slug=slug, token=token))


@team_lists.route("/lists/<slug>/imports/<token>")
@approver_required
def import_report(slug: str, token: str) -> str:
    saved = _reports().load(token, current_user().id, slug)
    if saved is None:
        abort(404, description="There is no import report here. Reports are kept for a day, "
                               "and only for the person who ran the import.")
    with session_scope() as session:
        mailing_list = _list_or_404(session, slug)
        return render_team("list_import.html.j2", title=f"Import into {mailing_list.name}",
                           mailing_list=mailing_list, saved=saved, token=token, shown=PROBLEMS_SHOWN)


@team_lists.route("/lists/<slug>/imports/<token>/problems.csv")
@approver_required
def import_problems(slug: str, token: str) -> Response:
    reports = _reports()
    saved = reports.load(token, current_user().id, slug)
    path = reports.problems_path(token)
    if saved is None or not path.is_file():
        abort(404, description="There is no problems file here. They are kept for a day, "
                               "and only for the person who ran the import.")
    return send_file(path, mimetype="text/csv", as_attachment=True, max_age=0,
                     download_name=f"{Path(saved['file']).stem}-problems.csv")


@team_lists.route("/lists/<slug>/export.csv")
@approver_required
def export(slug: str) -> Response:
    """The CSV `newsletter subscribers export --list SLUG --status ... --out FILE` writes."""
    status = request.args.get("status", "confirmed")
    if status not in EXPORT_STATUSES:
        abort(400, description=f"Choose which people to export: {', '.join(EXPORT_STATUSES)}.")
    statuses = list(SubscriptionStatus) if status == "all" else [SubscriptionStatus(status)]
    with session_scope() as session:
        mailing_list = _list_or_404(session, slug)
        # Spooled: the transaction ends before the download starts, and memory stays flat (past 4 MB it
        # is a temporary file) whatever the size of the list.
        spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=4 << 20)
        text = io.TextIOWrapper(spool, encoding="utf-8-sig", newline="")  # type: ignore[arg-type]
        api.export_list(session, mailing_list, text, statuses)
        text.flush()
        text.detach()
    spool.seek(0)

    def chunks() -> Iterator[bytes]:
        with spool:
            while chunk := spool.read(64 * 1024):
                yield chunk

    response = Response(chunks(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{slug}-{status}.csv"'
    return response


# --- people -------------------------------------------------------------------------------------------


@team_lists.route("/subscribers")
@login_required
def subscribers() -> str:
    query = request.args.get("q", "").strip()[:QUERY_MAX]
    with session_scope() as session:
        found = api.search_subscribers(session, query) if query else []
        lists_of = api.subscriptions_by_subscriber(session, [person.id for person in found])
        return render_team("subscribers.html.j2", title="Find a subscriber", query=query,
                           rows=[(person, lists_of[person.id]) for person in found], limit=api.SEARCH_LIMIT)


@team_lists.route("/subscribers/<int:subscriber_id>")
@login_required
def subscriber(subscriber_id: int) -> str:
    """What `newsletter subscribers show` prints."""
    with session_scope() as session:
        person = _subscriber_or_404(session, subscriber_id)
        return render_team(
            "subscriber.html.j2", title=person.email, person=person,
            subscriptions=api.subscriptions_of(session, person.id),
            history=api.consent_history(session, person.id),
            suppression=api.find_suppression(session, person.email_hash),
        )


@team_lists.route("/subscribers/<int:subscriber_id>/remove", methods=["POST"])
@approver_required
def remove(subscriber_id: int) -> Response:
    """Unsubscribe from one list, as `newsletter subscribers remove EMAIL --list SLUG` does."""
    with session_scope() as session:
        person = _subscriber_or_404(session, subscriber_id)
        try:
            chosen = api.get_lists(session, [request.form.get("list", "")])
        except ListNotFound:
            abort(400, description="Choose the list to unsubscribe them from.")
        changed = api.remove_subscriber(session, person.email, chosen)
        name = chosen[0].name
    if changed:
        flash(f"Unsubscribed them from “{name}”. Their record and consent history are kept.")
    else:
        flash(f"They were not subscribed to “{name}”, so nothing changed.")
    return redirect(url_for("team_lists.subscriber", subscriber_id=subscriber_id))


@team_lists.route("/subscribers/<int:subscriber_id>/erase", methods=["GET", "POST"])
@approver_required
def erase(subscriber_id: int) -> Any:
    """Erasure with a confirmation step: the GET asks, only a POST with confirm=yes erases."""
    if request.method == "POST" and request.form.get("confirm") != "yes":
        return redirect(url_for("team_lists.erase", subscriber_id=subscriber_id))
    with session_scope() as session:
        person = _subscriber_or_404(session, subscriber_id)
        if request.method == "GET":
            return render_team("subscriber_erase.html.j2", title=f"Erase {person.email}", person=person,
                               subscriptions=api.subscriptions_of(session, person.id))
        api.erase(session, person, ConsentSource.ADMIN)
    # The address is not repeated here: the flash message travels in the session cookie.
    flash("Erased: their details are deleted and the address is kept only as a one-way hash, "
          "so no import can add them back.")
    return redirect(url_for("team_lists.subscribers"))
