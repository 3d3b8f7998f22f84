"""Scheduling and sending from the browser, and the campaign page with live progress.

Sending is two steps on purpose: the approver picks lists and a time, then sees how many people
will get the issue and confirms. The campaign page reads the same progress `newsletter campaigns
show` prints; `team.js` refreshes it every few seconds and the page works (with a reload) without it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, abort, flash, redirect, request, session as browser_session, url_for
from sqlalchemy.orm import Session

from newsletter import localtime
from newsletter.counts.report import CAVEAT, CampaignReport, campaign_report
from newsletter.delivery import audience, campaigns
from newsletter.delivery.ledger import Progress
from newsletter.delivery.models import CampaignState, DeliveryState
from newsletter.issues import store
from newsletter.web import pages
from newsletter.web.auth import approver_required, current_user, login_required
from newsletter.web.pages import render_team

sending = Blueprint("sending", __name__, url_prefix="/team")


def _lists(session: Session) -> list[tuple[Any, int]]:
    found = audience.all_lists(session)
    return [(mailing_list, audience.count_sendable(session, [mailing_list.id])) for mailing_list in found]




@sending.route("/issues/<slug>/send", methods=["GET", "POST"])
@approver_required
def send(slug: str) -> Any:
    settings = pages.settings()
    chosen = request.form.getlist("list")
    error = None
    with pages.session_scope() as session:
        issue = store.find_issue(session, slug)
        if issue is None:
            abort(404)
        lists = _lists(session)
        current = store.content_version(issue)
        if request.method == "GET":
            return render_team("send.html.j2", title=f"Send: {issue.title}", issue=issue, lists=lists,
                               chosen=[], when="", count=None, error=None, version=current, when_moment=None,
                               zone_name=settings.timezone)
        # The form carries the version of the issue it was opened on: an issue sent back, changed and
        # approved again meanwhile is not sent without the approver seeing that it changed.
        version = request.form.get("version", "")
        try:
            when = localtime.parse(request.form.get("when", ""), settings)
        except localtime.InvalidTime as invalid:
            when, error = None, str(invalid)
        if not chosen and error is None:
            error = "Choose at least one list."
        count = None
        if error is None:
            list_ids = audience.list_ids_for(session, chosen)
            count = audience.count_sendable(session, list_ids)
            if request.form.get("confirm") == "yes" and version != current:
                error = ("This issue was changed after you opened this page. Check the preview, then choose "
                         "the lists and confirm again.")
                version = current
            elif request.form.get("confirm") == "yes":
                try:
                    campaign = campaigns.create_campaign(session, issue, chosen, settings, send_at=when,
                                                         created_by=current_user().email)
                    campaign_id, state = campaign.id, campaign.state
                except campaigns.SendRefused as refused:
                    error = str(refused)
                else:
                    session.commit()
                    if settings.redis_url is not None and state is CampaignState.RUNNING:
                        from newsletter.delivery import tasks

                        tasks.start(campaign_id)
                    # "progress": true only while it sends, so the live page removes it once that changes.
                    flash("Sending has started." if state is CampaignState.RUNNING else "The issue is scheduled.",
                          "progress")
                    return redirect(url_for("sending.campaign", campaign_id=campaign_id))
        return render_team("send.html.j2", title=f"Send: {issue.title}", issue=issue, lists=lists, chosen=chosen,
                           when=request.form.get("when", ""), count=count, error=error,
                           version=version, when_moment=when, zone_name=settings.timezone), 400 if error else 200


def _progress_dict(progress: Progress) -> dict[str, Any]:
    counts = {state.value: progress.counts.get(state, 0) for state in DeliveryState}
    return {
        "state": progress.state.value,
        "counts": counts,
        "total": progress.total,
        "done": progress.done,
        "rate": round(progress.rate_per_second, 1),
        "seconds_left": None if progress.seconds_left is None else round(progress.seconds_left),
        "finished": progress.state in (CampaignState.FINISHED, CampaignState.CANCELLED),
        "failure_reason": progress.failure_reason,
    }


@sending.route("/campaigns")
@login_required
def campaign_list() -> str:
    with pages.session_scope() as session:
        found = campaigns.list_campaigns(session)
        rows = [(campaign, _progress_dict(campaigns.progress(session, campaign.id))) for campaign in found]
        return render_team("campaigns.html.j2", title="Campaigns", rows=rows)


@sending.route("/campaigns/<int:campaign_id>")
@login_required
def campaign(campaign_id: int) -> str:
    with pages.session_scope() as session:
        try:
            found = campaigns.get_campaign(session, campaign_id)
        except campaigns.CampaignNotFound:
            abort(404)
        progress = _progress_dict(campaigns.progress(session, campaign_id))
        waiting = browser_session.get("_flashes", [])
        if progress["state"] not in ("running", "scheduled") and any(kind == "progress" for kind, _ in waiting):
            # Finished (or paused, or stopped) before this page was first shown: "Sending has started."
            # would already be untrue. Flask keeps messages in the session until a page shows them.
            browser_session["_flashes"] = [(kind, text) for kind, text in waiting if kind != "progress"]
        report = campaign_report(session, campaign_id)
        return render_team("campaign.html.j2", title=f"Campaign {campaign_id}: {found.issue.title}", campaign=found,
                           progress=progress, report=report, bars=_bars(report), report_note=CAVEAT,
                           counting_clicks=pages.settings().count_clicks)


def _bars(report: CampaignReport) -> list[dict[str, Any]]:
    """The chart's bars: a short label, the count, and the width in steps of 5 % of the largest count."""
    most = report.most_clicks
    bars = []
    for link in report.clicks:
        parts = urlsplit(link.url)
        label = (parts.netloc + parts.path).rstrip("/") or link.url
        step = 0 if not most else max(1 if link.count else 0, round(20 * link.count / most)) * 5
        bars.append({"label": label, "count": link.count, "step": step})
    return bars


@sending.route("/campaigns/<int:campaign_id>/report.csv")
@login_required
def report_csv(campaign_id: int) -> Response:
    """The report as a spreadsheet for the team's own reporting (numbers only, like the page)."""
    with pages.session_scope() as session:
        try:
            report = campaign_report(session, campaign_id)
        except campaigns.CampaignNotFound:
            abort(404)
    # A byte-order mark, so Excel reads the file as UTF-8 (link addresses and poll answers need not be ASCII).
    response = Response("\ufeff" + report.as_csv(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="campaign-{campaign_id}-report.csv"'
    return response


@sending.route("/campaigns/<int:campaign_id>/progress.json")
@login_required
def progress_json(campaign_id: int) -> dict[str, Any]:
    with pages.session_scope() as session:
        try:
            campaigns.get_campaign(session, campaign_id)
        except campaigns.CampaignNotFound:
            abort(404)
        return _progress_dict(campaigns.progress(session, campaign_id))


ACTIONS = {
    "pause": (campaigns.pause, "Paused. Nothing more is sent until you resume."),
    "resume": (campaigns.resume, "Resumed. Sending continues where it stopped."),
    "cancel": (campaigns.cancel, "Cancelled. Messages already sent stay sent."),
}


@sending.route("/campaigns/<int:campaign_id>/<action>", methods=["POST"])
@approver_required
def steer(campaign_id: int, action: str) -> Response:
    settings = pages.settings()
    with pages.session_scope() as session:
        try:
            if action == "retry-failed":
                count = campaigns.retry_failed(session, campaign_id)
                message = f"Queued {count} failed message(s) again." if count else "There were no failed messages."
            elif action in ACTIONS:
                step, message = ACTIONS[action]
                step(session, campaign_id)
            else:
                abort(404)
        except campaigns.CampaignNotFound:
            abort(404)
        except campaigns.SendRefused as error:
            flash(str(error), "error")
            return redirect(url_for("sending.campaign", campaign_id=campaign_id))
    if settings.redis_url is not None and action in ("resume", "retry-failed"):
        from newsletter.delivery import tasks

        tasks.start(campaign_id)
    flash(message)
    return redirect(url_for("sending.campaign", campaign_id=campaign_id))
