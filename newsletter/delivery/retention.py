"""Forgetting who a campaign went to, once it is long over, while keeping what it did.

A delivery row says "this person was sent this issue", which on a SEND families list says something
about a household. After NEWSLETTER_DELIVERY_RETENTION_DAYS from the end of a campaign that is no
longer needed for answering a reader or tracing a bounce, so its rows lose their link to the reader:
the subscriber id, the last SMTP reply (a server may quote the address in it) and the Message-ID are
cleared. Each row stays with its state, attempts and times, so every count, rate and page that reads
the rows (campaign page, progress, `campaigns show`, bounces) gives the same figures as before: the
same thing an erasure already does to one reader's rows.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.delivery import ledger
from newsletter.delivery.models import Campaign, CampaignState, Delivery

ENDED = (CampaignState.FINISHED, CampaignState.CANCELLED)


def _due(cutoff: datetime):  # type: ignore[no-untyped-def]
    return (Campaign.state.in_([state.value for state in ENDED]), Campaign.finished_at <= cutoff,
            Campaign.recipients_removed_at.is_(None))


def forget_recipients(session: Session, settings: Settings, now: datetime,
                      keep: Callable[[Session, int], None] | None = None) -> int:
    """Clear the link to a person on every row of campaigns that ended before the retention period.

    `keep(session, campaign_id)` runs first, under the campaign's lock, to write down any figure that is
    worked out from whom the rows reached (the report's unsubscribes), while that is still known.

    Each campaign is changed under its lock and read again after taking it, so a retry of failed rows
    reopening it at the same moment either goes first (the campaign is running again and is left) or
    is refused afterwards. Two runs at once do each campaign once. Returns the rows changed.
    """
    cutoff = now - timedelta(days=settings.delivery_retention_days)
    changed = 0
    for campaign_id in list(session.scalars(select(Campaign.id).where(*_due(cutoff)).order_by(Campaign.id))):
        ledger.lock_campaign(session, campaign_id)
        still_due = session.scalar(select(Campaign.id).where(Campaign.id == campaign_id, *_due(cutoff)))
        # A cancelled campaign may still have a row a dead worker held: the tick ends it first.
        if still_due is None or session.scalar(select(ledger.unfinished(campaign_id))):
            continue
        if keep is not None:
            keep(session, campaign_id)
        result = session.execute(
            update(Delivery).where(Delivery.campaign_id == campaign_id)
            .values(subscriber_id=None, last_reply="", message_id="", claim_token="", lease_until=None,
                    next_attempt_at=None)
            .execution_options(synchronize_session=False)
        )
        session.execute(update(Campaign).where(Campaign.id == campaign_id).values(recipients_removed_at=now)
                        .execution_options(synchronize_session=False))
        changed += int(result.rowcount or 0)
    return changed


__all__ = ["forget_recipients"]
