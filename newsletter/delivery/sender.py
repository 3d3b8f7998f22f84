"""The sending loop: claim a batch, build each reader's message, pace, send, settle in bulk.

It knows the database only through `ledger` and `audience`, and the mail server only through a
`Transport`, so it runs the same in a Celery worker, in the embedded in-process worker, and in tests.

Duplicates: a message is counted as sent when its row is settled. Results are settled every
`FLUSH_EVERY` messages, every third of a lease, and at a batch end, so if this process is killed
between the SMTP server's 250 reply and that write, at most the messages accepted since the last
write are sent again by whoever reclaims the rows; they carry the same Message-ID. That window is
the only one: a live worker writes its results before its lease can run out, and renews the lease
on the rows it has yet to send.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import redis
from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.db import session_scope, utcnow
from newsletter.delivery import audience, campaigns, ledger
from newsletter.delivery.dkim_signing import signer_for
from newsletter.delivery.ledger import Claimed, Outcome
from newsletter.delivery.mime import PreparedMessage, Recipient, verp_address
from newsletter.delivery.models import Campaign, CampaignState, DeliveryState, campaign_lists
from newsletter.delivery.ratelimit import DailyQuotaReached, Limiter
from newsletter.delivery.transport import PermanentFailure, TemporaryFailure, Throttled, Transport
from newsletter.issues import service
from newsletter.theme import get_theme

log = logging.getLogger(__name__)

FLUSH_EVERY = 50
PERMIT_CHUNK = 10  # rate-limit permits taken at a time: one Redis round trip per ten messages


@dataclass
class WorkReport:
    """What one call of `work` did, and whether there is more for someone to do later."""

    sent: int = 0
    settled: int = 0
    stopped_because: str = ""
    retry_after: float | None = None  # seconds until rows become claimable again, if any remain
    finished: bool = False
    outcomes: dict[str, int] = field(default_factory=dict)


def backoff(attempt: int, base: float, cap: float = 3600.0) -> float:
    """Exponential backoff with full jitter, so retried rows from many workers do not arrive together."""
    ceiling = min(cap, base * (2 ** max(0, attempt - 1)))
    return random.uniform(ceiling / 2, ceiling)


def batch_size(settings: Settings) -> int:
    """No more rows than the rate lets one worker send in half a lease: a claim should not sit idle."""
    return max(10, min(settings.send_batch_size, int(settings.send_rate * settings.send_lease_seconds / 2)))


_PREPARED: dict[tuple[int, str], PreparedMessage] = {}


def prepared_for(session: Session, campaign: Campaign, settings: Settings) -> tuple[PreparedMessage, list[int]]:
    """Render and encode the campaign's message once per process."""
    list_ids = sorted(session.scalars(select(campaign_lists.c.list_id).where(campaign_lists.c.campaign_id == campaign.id)))
    key = (campaign.id, campaign.issue.updated_at.isoformat())
    prepared = _PREPARED.get(key)
    if prepared is None:
        theme = get_theme()
        rendered = service.rendered(campaign.issue, theme, settings)
        slug, name = audience.list_identity(session, list_ids)
        prepared = PreparedMessage(
            rendered,
            subject=campaign.issue.subject,
            from_address=settings.from_address,
            language=campaign.issue.language,
            list_id=f"{slug}.{settings.sender_domain}",
            list_name=name,
            campaign_id=campaign.id,
            domain=settings.sender_domain,
        )
        _PREPARED.clear()  # one campaign at a time per process is the normal case; keep memory flat
        _PREPARED[key] = prepared
    return prepared, list_ids


class _Batch:
    """One claimed batch in flight: its outcomes so far, flushed to the ledger every FLUSH_EVERY.

    The rows still to send keep their lease renewed (every third of the lease), so however slowly
    the rate limit lets them go, no other worker takes them while this one is alive.
    """

    def __init__(self, claimed: list[Claimed], lease_seconds: float, token: str):
        self.token = token
        self.pending = {c.delivery_id: c for c in claimed}
        self.outcomes: list[Outcome] = []
        self.lease_seconds = lease_seconds
        self.renewed = time.monotonic()

    def keep_lease(self) -> int:
        """Every third of a lease: write what was sent so far and extend the lease on the rest.

        Sent rows are written, not renewed, so a row is never both sent and claimable by another.
        Returns how many results were written.
        """
        if time.monotonic() - self.renewed < self.lease_seconds / 3:
            return 0
        self.renewed = time.monotonic()
        written = self.flush()
        with session_scope() as session:
            held = ledger.renew(session, list(self.pending), self.lease_seconds, self.token)
        for lost in set(self.pending) - held:
            # This worker stalled past its lease and another took the row: it is theirs to send now.
            log.warning("delivery %s was taken back by another worker; not sending it here", lost)
            del self.pending[lost]
        return written

    def settle(self, claim: Claimed, outcome: Outcome) -> None:
        self.pending.pop(claim.delivery_id, None)
        self.outcomes.append(outcome)

    def flush(self) -> int:
        if not self.outcomes:
            return 0
        outcomes, self.outcomes = self.outcomes, []
        with session_scope() as session:
            ledger.settle(session, outcomes, self.token)
        return len(outcomes)

    def release(self, claims: list[Claimed], at: datetime | None = None) -> None:
        with session_scope() as session:
            ledger.release(session, claims, self.token, at)


def _state(campaign_id: int) -> CampaignState | None:
    with session_scope() as session:
        return session.scalar(select(Campaign.state).where(Campaign.id == campaign_id))


def work(
    campaign_id: int,
    settings: Settings,
    transport: Transport,
    limiter: Limiter,
    *,
    max_seconds: float = 60.0,
    heartbeat: Callable[[], None] | None = None,
) -> WorkReport:
    """Send this campaign's claimable rows until none are left, it is paused, or `max_seconds` pass."""
    report = WorkReport()
    signer = signer_for(settings)
    deadline = time.monotonic() + max_seconds
    throttle_delay = 1.0
    while time.monotonic() < deadline:
        with session_scope() as session:
            campaign = session.get(Campaign, campaign_id)
            if campaign is None or campaign.state is not CampaignState.RUNNING:
                report.stopped_because = campaign.state.value if campaign else "missing"
                return report
            prepared, list_ids = prepared_for(session, campaign, settings)
        if heartbeat is not None:
            heartbeat()
        token = ledger.new_claim_token()
        with session_scope() as session:
            claimed = ledger.claim_batch(session, campaign_id, batch_size(settings), settings.send_lease_seconds, token)
        if not claimed:
            with session_scope() as session:
                report.finished = ledger.finish_if_done(session, campaign_id)
                if report.finished:
                    campaigns.on_finished(session, campaign_id)
                due = None if report.finished else ledger.next_due(session, campaign_id)
            if due is not None:
                report.retry_after = max(0.0, (due - utcnow()).total_seconds())
            report.stopped_because = "finished" if report.finished else "nothing claimable"
            return report
        with session_scope() as session:
            contacts = audience.contacts(session, [c.subscriber_id for c in claimed], list_ids, settings)
        batch = _Batch(claimed, settings.send_lease_seconds, token)
        permits = 0
        try:
            for index, claim in enumerate(claimed):
                report.settled += batch.keep_lease()
                if claim.delivery_id not in batch.pending:
                    continue  # taken back by another worker after a stall
                contact = contacts.get(claim.subscriber_id)
                if contact is None:
                    batch.settle(claim, Outcome(claim.delivery_id, DeliveryState.SKIPPED, claim.attempts,
                                                reason="no longer subscribed"))
                    continue
                if permits == 0:
                    limiter.acquire(PERMIT_CHUNK)
                    permits = PERMIT_CHUNK
                permits -= 1
                message = prepared.build(
                    Recipient(claim.delivery_id, contact.email, contact.name, contact.unsubscribe_url,
                              contact.mailto_unsubscribe, contact.preferences_url)
                )
                if signer is not None:
                    message = signer.sign(message)
                envelope = verp_address(claim.delivery_id, settings.sender_domain, settings.secret_key)
                attempts = claim.attempts + 1
                try:
                    reply = transport.send(envelope, contact.email, message)
                except Throttled as error:
                    # Not this reader's fault: put the row back without using an attempt and slow everyone.
                    limiter.penalise(throttle_delay)
                    throttle_delay = min(throttle_delay * 2, 60.0)
                    # Permits already in hand would send straight into the same refusal and double the
                    # penalty each time; drop them so this worker waits out the penalty like the others.
                    permits = 0
                    batch.settle(claim, Outcome(claim.delivery_id, DeliveryState.QUEUED, claim.attempts,
                                                reply=str(error), reason="throttled"))
                    continue
                except PermanentFailure as error:
                    suppress = not error.reply.lstrip().startswith("5.7")
                    batch.settle(claim, Outcome(claim.delivery_id, DeliveryState.BOUNCED, attempts,
                                                reply=str(error), reason="smtp 5xx"))
                    if suppress:
                        with session_scope() as session:
                            audience.hard_bounce(session, contact.email, str(error))
                    continue
                except TemporaryFailure as error:
                    if error.code == 0:
                        # The server cannot be reached: give the whole rest of the batch back for later.
                        delay = backoff(attempts, settings.send_retry_base_seconds)
                        batch.settle(claim, _retry_or_fail(claim, attempts, error, delay, settings))
                        rest = list(batch.pending.values())
                        batch.flush()
                        batch.release(rest, at=utcnow() + timedelta(seconds=delay))
                        batch.pending.clear()
                        report.stopped_because = "smtp unreachable"
                        report.retry_after = delay
                        return report
                    delay = backoff(attempts, settings.send_retry_base_seconds)
                    batch.settle(claim, _retry_or_fail(claim, attempts, error, delay, settings))
                    continue
                throttle_delay = max(1.0, throttle_delay / 2)
                batch.settle(claim, Outcome(claim.delivery_id, DeliveryState.SENT, attempts, reply=reply,
                                            message_id=prepared.message_id(claim.delivery_id), sent_at=utcnow()))
                report.sent += 1
                if len(batch.outcomes) >= FLUSH_EVERY:
                    report.settled += batch.flush()
                    if index + 1 < len(claimed) and _state(campaign_id) is not CampaignState.RUNNING:
                        break  # paused or cancelled: the rest goes back below
        except DailyQuotaReached as quota:
            report.stopped_because = str(quota)
            report.retry_after = (quota.resume_at - utcnow()).total_seconds()
        except (redis.RedisError, OSError) as error:
            # The rate limiter's Redis is away: keep nothing claimed, try again shortly.
            log.warning("rate limiter unavailable: %s", error)
            report.stopped_because = "rate limiter unavailable"
            report.retry_after = 2.0
        finally:
            report.settled += batch.flush()
            if batch.pending:
                batch.release(list(batch.pending.values()))
        if report.stopped_because:
            return report
    report.stopped_because = "time slice used"
    report.retry_after = 0.0
    return report


def _retry_or_fail(claim: Claimed, attempts: int, error: TemporaryFailure, delay: float, settings: Settings) -> Outcome:
    if attempts >= settings.send_max_attempts:
        return Outcome(claim.delivery_id, DeliveryState.FAILED, attempts, reply=str(error), reason="gave up after retries")
    return Outcome(claim.delivery_id, DeliveryState.QUEUED, attempts, reply=str(error), reason="will retry",
                   next_attempt_at=utcnow() + timedelta(seconds=delay))
