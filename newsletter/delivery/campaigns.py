"""Campaigns: create one from an approved issue and its lists, and steer it (pause, resume, cancel,
retry failed, scheduled start). The sending itself is in `sender`.

Scheduling lives in the database (`send_at`), not in a Celery ETA: an unacknowledged Redis message
comes back only after the visibility timeout, so a long ETA can run twice. A periodic `tick` flips
due campaigns to running atomically, so a scheduler that was down starts them when it returns.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import exists, insert, select, text, update
from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.counts import links as counted_links
from newsletter.db import utcnow
from newsletter.delivery import audience, ledger
from newsletter.delivery.mime import MessageBodies, PreparedMessage
from newsletter.delivery.models import (
    Campaign,
    CampaignMessage,
    CampaignState,
    Delivery,
    DeliveryState,
    campaign_lists,
)
from newsletter.errors import NewsletterError
from newsletter.headersafe import HeaderValueError
from newsletter.issues import store, workflow
from newsletter.issues.models import Issue, IssueStatus
from newsletter.render.personalise import PersonalTemplate
from newsletter.render.pipeline import RenderedIssue

INSERT_CHUNK = 5000


class SendRefused(NewsletterError):
    """The issue may not be sent as it is; the message says what to do first."""


class CampaignNotFound(NewsletterError):
    def __init__(self, campaign_id: int):
        super().__init__(f"no campaign {campaign_id}; `newsletter campaigns list` shows them")


def _check_before_sending(issue: Issue, settings: Settings) -> RenderedIssue:
    """Refuse an issue that is not approved or fails its checks; returns it rendered, to be sent."""
    from newsletter.checks.runner import check_issue
    from newsletter.theme import get_theme

    if issue.status is not IssueStatus.APPROVED:
        raise SendRefused(
            f"issue {issue.slug!r} is {issue.status.value.replace('_', ' ')}; it must be approved before it is sent"
        )
    theme = get_theme()
    doc = store.document(issue)
    from newsletter.issues.service import rendered

    result = rendered(issue, theme, settings)
    report = check_issue(doc, result, theme, readability_min=settings.readability_min_score)
    if not report.ok:
        raise SendRefused(
            f"issue {issue.slug!r} has {len(report.errors)} accessibility error(s); "
            f"run `newsletter check {issue.slug}` and fix them first"
        )
    return result


def _message(session: Session, issue: Issue, rendered: RenderedIssue, list_ids: list[int],
             settings: Settings) -> CampaignMessage:
    """The email the campaign will send, fixed now; refused here if no message could be built from it."""
    slug, name = audience.list_identity(session, list_ids)
    # Links go through the click counter here, once a campaign: every reader's copy has the same ones.
    email_html, email_text = counted_links.for_issue(session, issue.id, rendered.html.source,
                                                     rendered.text.source, settings)
    message = CampaignMessage(subject=issue.subject, from_address=settings.from_address, language=issue.language,
                              list_id=f"{slug}.{settings.sender_domain}", list_name=name,
                              email_html=email_html, email_text=email_text)
    try:
        prepared_message(message, 0, settings)
    except HeaderValueError as error:
        raise SendRefused(f"issue {issue.slug!r} cannot be sent to these lists: {error}") from None
    return message


def prepared_message(message: CampaignMessage, campaign_id: int, settings: Settings) -> PreparedMessage:
    """The campaign's fixed message, encoded for sending (once per process: it costs a few ms)."""
    bodies = MessageBodies(html=PersonalTemplate.compile(message.email_html, escape=True),
                           text=PersonalTemplate.compile(message.email_text, escape=False))
    return PreparedMessage(bodies, subject=message.subject, from_address=message.from_address,
                           language=message.language, list_id=message.list_id, list_name=message.list_name,
                           campaign_id=campaign_id, domain=settings.sender_domain)


def message_of(session: Session, campaign: Campaign, settings: Settings) -> CampaignMessage:
    """The campaign's fixed message. A campaign made before messages were fixed gets it now, once."""
    message = session.get(CampaignMessage, campaign.id)
    if message is None:
        from newsletter.issues.service import rendered
        from newsletter.theme import get_theme

        message = _message(session, campaign.issue, rendered(campaign.issue, get_theme(), settings),
                           list_ids_of(session, campaign.id), settings)
        message.campaign_id = campaign.id
        session.add(message)
        session.flush()
    return message


def create_campaign(
    session: Session,
    issue: Issue,
    list_slugs: Iterable[str],
    settings: Settings,
    *,
    send_at: datetime | None = None,
    created_by: str = "",
) -> Campaign:
    """One campaign, its message fixed as approved, and one delivery row per reader (a reader on two
    lists gets one message)."""
    rendered = _check_before_sending(issue, settings)
    list_ids = audience.list_ids_for(session, list(list_slugs))
    message = _message(session, issue, rendered, list_ids, settings)
    now = utcnow()
    due = send_at is None or send_at <= now
    # The issue leaves "approved" first, by a write that only one of two simultaneous sends can make
    # (a double-click on "Send now", two approvers, two terminals); the other is refused here.
    try:
        (workflow.start_sending if due else workflow.schedule)(issue)
    except store.InvalidTransition:
        raise SendRefused(f"issue {issue.slug!r} is already being sent or scheduled; "
                          "`newsletter campaigns list` shows its campaign") from None
    refresh_statistics(session, "subscribers", "subscriptions", "suppressions")
    campaign = Campaign(
        issue_id=issue.id,
        state=CampaignState.RUNNING if due else CampaignState.SCHEDULED,
        send_at=send_at or now,
        started_at=now if due else None,
        created_by=created_by,
    )
    session.add(campaign)
    session.flush()
    message.campaign_id = campaign.id
    session.add(message)
    session.execute(insert(campaign_lists), [{"campaign_id": campaign.id, "list_id": i} for i in list_ids])
    chunk: list[dict[str, object]] = []
    for subscriber_id in audience.sendable_subscriber_ids(session, list_ids):
        chunk.append({"campaign_id": campaign.id, "subscriber_id": subscriber_id, "state": DeliveryState.QUEUED,
                      "attempts": 0, "created_at": now, "updated_at": now, "last_reply": "", "reason": "",
                      "message_id": ""})
        if len(chunk) >= INSERT_CHUNK:
            session.execute(insert(Delivery), chunk)
            chunk = []
    if chunk:
        session.execute(insert(Delivery), chunk)
    refresh_statistics(session, "deliveries")
    return campaign


def refresh_statistics(session: Session, *tables: str) -> None:
    """Tell PostgreSQL's planner how big the tables just became.

    Without fresh statistics (autovacuum off, or not yet run after a bulk insert) the planner takes
    100,000 new rows for one and picks plans that are fine for one: the send-time audience check was
    measured at 4 s a batch instead of milliseconds. ANALYZE samples a fixed number of rows, so it
    costs well under a second whatever the size, once per campaign or import.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("ANALYZE " + ", ".join(tables)))


def get_campaign(session: Session, campaign_id: int) -> Campaign:
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise CampaignNotFound(campaign_id)
    return campaign


def list_campaigns(session: Session) -> list[Campaign]:
    return list(session.scalars(select(Campaign).order_by(Campaign.id.desc())))


def state_of(session: Session, campaign_id: int) -> CampaignState | None:
    return session.scalar(select(Campaign.state).where(Campaign.id == campaign_id))


def list_ids_of(session: Session, campaign_id: int) -> list[int]:
    return sorted(session.scalars(select(campaign_lists.c.list_id).where(campaign_lists.c.campaign_id == campaign_id)))


def _locked(session: Session, campaign_id: int, allowed: set[CampaignState], action: str) -> Campaign:
    """The campaign, under its lock and as committed now, if it is in a state that allows `action`."""
    state = ledger.lock_campaign(session, campaign_id)
    if state is None:
        raise CampaignNotFound(campaign_id)
    if state not in allowed:
        raise SendRefused(f"campaign {campaign_id} is {state.value}; it cannot be {action}")
    return get_campaign(session, campaign_id)


def pause(session: Session, campaign_id: int) -> Campaign:
    """Workers stop within a re-check (under a second) and give the rows they hold back."""
    campaign = _locked(session, campaign_id, {CampaignState.RUNNING, CampaignState.SCHEDULED}, "paused")
    campaign.state = CampaignState.PAUSED
    return campaign


def resume(session: Session, campaign_id: int) -> Campaign:
    """Continue exactly where it stopped: only rows still queued are claimed.

    A campaign paused before its scheduled time goes back to waiting for that time; one that failed
    is tried again (after the cause, such as a list name, has been put right).
    """
    campaign = _locked(session, campaign_id, {CampaignState.PAUSED, CampaignState.FAILED}, "resumed")
    campaign.failure_reason = ""
    if campaign.started_at is None and campaign.send_at > utcnow():
        campaign.state = CampaignState.SCHEDULED
        return campaign
    campaign.state = CampaignState.RUNNING
    campaign.started_at = campaign.started_at or utcnow()
    if campaign.issue.status is IssueStatus.SCHEDULED:
        workflow.start_sending(campaign.issue)
    return campaign


def cancel(session: Session, campaign_id: int) -> Campaign:
    """Nothing more is sent; rows already sent stay as they are, the rest become skipped.

    Rows a live worker holds are ended by that worker within a re-check, so a message it was handing
    to the server at that moment is recorded as sent, not as skipped. A campaign that has finished
    can no longer be cancelled: its readers have the issue, and its web view must keep working.
    """
    campaign = _locked(session, campaign_id, {CampaignState.RUNNING, CampaignState.PAUSED, CampaignState.SCHEDULED,
                                              CampaignState.FAILED}, "cancelled")
    campaign.state = CampaignState.CANCELLED
    campaign.finished_at = utcnow()
    session.flush()
    ledger.skip_unsent(session, campaign_id, "campaign cancelled")
    if campaign.issue.status in (IssueStatus.SENDING, IssueStatus.SCHEDULED):
        workflow.cancel_sending(campaign.issue)
    return campaign


def fail(session: Session, campaign_id: int, reason: str) -> bool:
    """Stop a running campaign whose message cannot be built; its rows wait, unsent, for a resume."""
    if ledger.lock_campaign(session, campaign_id) is not CampaignState.RUNNING:
        return False
    campaign = get_campaign(session, campaign_id)
    campaign.state = CampaignState.FAILED
    campaign.failure_reason = reason[:2000]
    return True


def retry_failed(session: Session, campaign_id: int) -> int:
    """Queue the failed rows again (only those); the campaign runs again until they are final.

    Under the campaign's lock, so a worker finishing the campaign at the same moment either sees
    these rows queued (and does not finish) or finished first (and is reopened here).
    """
    campaign = _locked(session, campaign_id, {CampaignState.RUNNING, CampaignState.FINISHED, CampaignState.PAUSED},
                       "retried")
    if campaign.recipients_removed_at is not None:
        # Its rows no longer say who they were for (delivery/retention.py): there is nobody to send to.
        raise SendRefused(f"campaign {campaign_id} ended long ago and who it went to has been forgotten, "
                          "so its failed messages cannot be sent again")
    result = session.execute(
        update(Delivery)
        .where(Delivery.campaign_id == campaign_id, Delivery.state == DeliveryState.FAILED)
        .values(state=DeliveryState.QUEUED, attempts=0, next_attempt_at=None, reason="retry requested",
                updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount and campaign.state is CampaignState.FINISHED:
        campaign.state = CampaignState.RUNNING
        campaign.finished_at = None
    return int(result.rowcount or 0)


def start_due(session: Session) -> list[int]:
    """Flip scheduled campaigns whose time has come to running (idempotent; safe from many ticks)."""
    now = utcnow()
    due = list(session.scalars(
        select(Campaign.id).where(Campaign.state == CampaignState.SCHEDULED, Campaign.send_at <= now)))
    started = []
    for campaign_id in due:
        if ledger.lock_campaign(session, campaign_id) is not CampaignState.SCHEDULED:
            continue
        campaign = get_campaign(session, campaign_id)
        campaign.state = CampaignState.RUNNING
        campaign.started_at = now
        if campaign.issue.status is IssueStatus.SCHEDULED:
            workflow.start_sending(campaign.issue)
        started.append(campaign_id)
    return started


def sweep_stopped(session: Session) -> int:
    """End rows of cancelled campaigns that a worker died holding, so none stays "sending" for ever."""
    ended = 0
    for campaign_id in session.scalars(
        select(Campaign.id).where(Campaign.state == CampaignState.CANCELLED,
                                  exists().where(Delivery.campaign_id == Campaign.id,
                                                 Delivery.state.in_([DeliveryState.QUEUED.value,
                                                                     DeliveryState.SENDING.value])))
    ).all():
        ended += ledger.skip_unsent(session, campaign_id, "campaign cancelled")
    return ended


def running(session: Session) -> list[int]:
    return list(session.scalars(select(Campaign.id).where(Campaign.state == CampaignState.RUNNING)))


def on_finished(session: Session, campaign_id: int) -> None:
    """The issue is sent when its campaign has finished (and is then on the public archive)."""
    campaign = get_campaign(session, campaign_id)
    session.refresh(campaign.issue)
    if campaign.issue.status is IssueStatus.SENDING:
        workflow.mark_sent(campaign.issue)


def progress(session: Session, campaign_id: int) -> ledger.Progress:
    return ledger.progress(session, get_campaign(session, campaign_id))


def list_names_by_issue(session: Session, issue_ids: Iterable[int]) -> dict[int, list[str]]:
    """The lists each issue was (or will be) sent to, for the team's issues list, each by name in name order."""
    ids = list(issue_ids)
    if not ids:
        return {}
    pairs = session.execute(
        select(Campaign.issue_id, campaign_lists.c.list_id)
        .join(campaign_lists, campaign_lists.c.campaign_id == Campaign.id)
        .where(Campaign.issue_id.in_(ids), Campaign.state != CampaignState.CANCELLED)
        .distinct()
    ).all()
    names = audience.list_names(session, sorted({list_id for _, list_id in pairs}))  # in name order
    lists_of: dict[int, set[int]] = {}
    for issue_id, list_id in pairs:
        lists_of.setdefault(issue_id, set()).add(list_id)
    found: dict[int, list[str]] = {}
    for issue_id, list_ids in lists_of.items():
        chosen = [name for list_id, name in names.items() if list_id in list_ids]
        if chosen:
            found[issue_id] = list(dict.fromkeys(chosen))
    return found
