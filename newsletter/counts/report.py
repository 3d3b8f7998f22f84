"""A campaign's report: what happened to its messages and what families did with them, as numbers.

Delivered, bounced and failed come from the campaign's delivery rows; unsubscribed from the consent
log (`subscribers.api.left_from_email_links`); web-view visits and clicks per link from the count
tables; feedback answers and poll results from the feedback and poll tables. Every figure is a
count: the report has nothing to say about any one reader because nothing about one is kept.

Clicks and visits are per issue (the redirect and the web view belong to the issue, not to one of
its campaigns); an issue has one campaign unless one was cancelled and it was sent again.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.config import get_settings
from newsletter.counts import links, store
from newsletter.delivery import campaigns, ledger
from newsletter.delivery.models import Campaign, CampaignMessage, Delivery, DeliveryState
from newsletter.listening import store as listening
from subscribers import api

# Shown wherever the figures are (page, command, CSV): what they can and cannot mean.
CAVEAT = ("Counts may include automatic link checks by mail security systems, which open links in "
          "incoming mail before anyone reads it. There is no open pixel, so nobody can tell who opened "
          "the email, and clicks are counted per link, never per reader.")
_CHUNK = 5000


@dataclass(frozen=True)
class LinkClicks:
    url: str
    count: int


@dataclass(frozen=True)
class PollResults:
    question: str
    results: dict[str, int]


@dataclass(frozen=True)
class Feedback:
    useful: int = 0
    not_useful: int = 0
    comments: int = 0


@dataclass(frozen=True)
class CampaignReport:
    campaign_id: int
    issue_title: str
    issue_slug: str
    state: str
    delivered: int
    bounced: int
    failed: int
    unsubscribed: int
    web_views: int
    clicks: list[LinkClicks]
    feedback: Feedback = field(default_factory=Feedback)
    polls: list[PollResults] = field(default_factory=list)

    @property
    def total_clicks(self) -> int:
        return sum(link.count for link in self.clicks)

    @property
    def most_clicks(self) -> int:
        return max((link.count for link in self.clicks), default=0)

    def as_dict(self) -> dict[str, Any]:
        return {
            "campaign": self.campaign_id,
            "issue": {"title": self.issue_title, "slug": self.issue_slug},
            "state": self.state,
            "delivered": self.delivered,
            "bounced": self.bounced,
            "failed": self.failed,
            "unsubscribed": self.unsubscribed,
            "web_views": self.web_views,
            "clicks": [{"url": link.url, "count": link.count} for link in self.clicks],
            "feedback": {"useful": self.feedback.useful, "not_useful": self.feedback.not_useful,
                         "comments": self.feedback.comments},
            "polls": [{"question": poll.question, "results": dict(poll.results)} for poll in self.polls],
            "note": CAVEAT,
        }

    def rows(self) -> list[tuple[str, str, int]]:
        """(what, which, count) for each figure: the CSV's rows, in the page's order."""
        out = [("Delivered", "", self.delivered), ("Bounced", "", self.bounced), ("Failed", "", self.failed),
               ("Unsubscribed from this issue", "", self.unsubscribed), ("Web page visits", "", self.web_views)]
        out += [("Clicks", link.url, link.count) for link in self.clicks]
        out += [("Feedback", "Useful", self.feedback.useful), ("Feedback", "Not useful", self.feedback.not_useful),
                ("Feedback", "Comments", self.feedback.comments)]
        for poll in self.polls:
            out += [(f"Poll: {poll.question}", option, count) for option, count in poll.results.items()]
        return out

    def as_csv(self) -> str:
        """For the team's own reporting: one figure a row, cells a spreadsheet will not run as formulas."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(["Figure", "Detail", "Count"])
        for what, which, count in self.rows():
            writer.writerow([api.spreadsheet_safe(what), api.spreadsheet_safe(which), count])
        writer.writerow([])
        writer.writerow(["Note", api.spreadsheet_safe(CAVEAT), ""])
        return buffer.getvalue()


def keep_unsubscribed(session: Session, campaign_id: int) -> None:
    """Write the figure down on the campaign before retention clears whom its rows reached."""
    campaign = campaigns.get_campaign(session, campaign_id)
    campaign.unsubscribed_kept = unsubscribed_from(session, campaign)
    session.flush()


def unsubscribed_from(session: Session, campaign: Campaign) -> int:
    """People who left with a link or address from this campaign's email.

    An unsubscribe link names the person and lists, not the email it came in (it is the same in every
    issue they get), so an unsubscribe made from an email is put down to the last issue the person was
    sent before it: after this campaign's message reached them, and before the next one did.
    """
    if campaign.recipients_removed_at is not None:
        return campaign.unsubscribed_kept or 0
    since = campaign.started_at or campaign.created_at
    departures = api.left_from_email_links(session, since)
    if not departures:
        return 0
    people = sorted({subscriber_id for subscriber_id, _ in departures})
    sent_here: dict[int, datetime] = {}
    later: dict[int, list[datetime]] = {}
    for start in range(0, len(people), _CHUNK):
        chunk = people[start:start + _CHUNK]
        for campaign_id, subscriber_id, sent_at in session.execute(
            select(Delivery.campaign_id, Delivery.subscriber_id, Delivery.sent_at)
            .where(Delivery.subscriber_id.in_(chunk), Delivery.sent_at.is_not(None),
                   Delivery.state == DeliveryState.SENT)
        ).all():
            if campaign_id == campaign.id:
                sent_here[subscriber_id] = sent_at
            else:
                later.setdefault(subscriber_id, []).append(sent_at)
    left = set()
    for subscriber_id, at in departures:
        sent = sent_here.get(subscriber_id)
        if sent is None or at < sent:
            continue
        following = [moment for moment in later.get(subscriber_id, ()) if moment > sent]
        if not following or at < min(following):
            left.add(subscriber_id)
    return len(left)


def _feedback_and_polls(session: Session, issue_id: int) -> tuple[Feedback, list[PollResults]]:
    """Answers are kept per issue, not per campaign: a resumed or repeated send of one issue shares them."""
    feedback = listening.feedback_counts(session, issue_id)
    polls = [PollResults(poll["question"], poll["results"]) for poll in listening.poll_results(session, issue_id)]
    return Feedback(feedback["useful"], feedback["not_useful"], feedback["comments"]), polls


def campaign_report(session: Session, campaign_id: int) -> CampaignReport:
    campaign = campaigns.get_campaign(session, campaign_id)
    counts = ledger.counts(session, campaign_id)
    feedback, polls = _feedback_and_polls(session, campaign.issue_id)
    # The links of the email this campaign sent (not those of an earlier version or test copy).
    message = session.get(CampaignMessage, campaign.id)
    link_ids = links.linked_ids(get_settings(), campaign.issue_id, message.email_html) if message else []
    return CampaignReport(
        campaign_id=campaign.id,
        issue_title=campaign.issue.title,
        issue_slug=campaign.issue.slug,
        state=campaign.state.value,
        delivered=counts.get(DeliveryState.SENT, 0),
        bounced=counts.get(DeliveryState.BOUNCED, 0),
        failed=counts.get(DeliveryState.FAILED, 0),
        unsubscribed=unsubscribed_from(session, campaign),
        web_views=store.web_views(session, campaign.issue_id),
        clicks=[LinkClicks(url, count) for url, count in store.clicks(session, campaign.issue_id, link_ids)],
        feedback=feedback,
        polls=polls,
    )
