"""The sending loop: claim a batch, build each reader's message, pace, send, settle in bulk.

It knows the database only through `ledger`, `campaigns` and `audience`, the pace only through a
`Limiter` and the mail server only through a `Transport`, so it runs the same in a Celery worker,
in the embedded in-process worker, and in tests.

What holds, and why:
- A row is handed to the server only by the holder of a live claim. A `LeaseKeeper` thread renews
  the claim while the loop waits for the rate limit or for a slow server, so a live worker's claim
  does not run out under it; and before each message the loop has confirmed, at most
  `RECHECK_SECONDS` earlier, that it still holds the row (a cancel or a stall past the lease takes it away).
- Unsubscribes, erasures, complaints, bounces, pauses and cancels take effect for every message
  not yet handed to the server within `RECHECK_SECONDS` of being committed: the loop asks again who
  may be mailed, and whether the campaign still runs, at least that often.
- Duplicates: a message is counted as sent when its row is settled. Results are written at every
  re-check and every `FLUSH_EVERY` messages, so if this process is killed between the server's 250
  reply and that write, at most the messages accepted since the last write are sent again by whoever
  reclaims the rows; they carry the same Message-ID. That is the only window.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.db import session_scope, utcnow
from newsletter.delivery import audience, campaigns, ledger
from newsletter.delivery.dkim_signing import signer_for
from newsletter.delivery.ledger import Claimed, Outcome
from newsletter.delivery.mime import PreparedMessage, Recipient, verp_address
from newsletter.delivery.models import Campaign, CampaignState, DeliveryState
from newsletter.delivery.ratelimit import DailyQuotaReached, Limiter, LimiterUnavailable
from newsletter.delivery.transport import PermanentFailure, TemporaryFailure, Throttled, Transport
from newsletter.logs import log_context

log = logging.getLogger(__name__)

FLUSH_EVERY = 50
PERMIT_CHUNK = 10  # rate-limit permits asked for at a time: one round trip per ten messages at most
# How stale the loop's knowledge may be when a message goes: who may be mailed, whether the campaign
# still runs, whether this worker still holds the row. Also the bound promised for an unsubscribe.
RECHECK_SECONDS = 0.5


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


# Keyed by database, campaign and the moment its message was fixed: a process may meet two campaigns
# with one id (another database, or SQLite reusing the id of a deleted row).
_PREPARED: dict[tuple[str, int, str], PreparedMessage] = {}


def prepared_for(session: Session, campaign: Campaign, settings: Settings) -> tuple[PreparedMessage, list[int]]:
    """Encode the campaign's fixed message once per process; it never changes, whatever the templates
    and theme do meanwhile, so every worker sends what was approved."""
    list_ids = campaigns.list_ids_of(session, campaign.id)
    message = campaigns.message_of(session, campaign, settings)
    key = (settings.database_url, campaign.id, message.created_at.isoformat())
    prepared = _PREPARED.get(key)
    if prepared is None:
        prepared = campaigns.prepared_message(message, campaign.id, settings)
        _PREPARED.clear()  # one campaign at a time per process is the normal case; keep memory flat
        _PREPARED[key] = prepared
    return prepared, list_ids


class LeaseKeeper:
    """Renews this worker's claim every quarter of a lease, on its own thread, while the loop blocks.

    The loop blocks in two places it does not control: the rate limit (minutes at 0.5 messages a
    second) and the server's reply (a slow relay). Renewing only between messages let a live
    worker's lease run out while it waited, and another worker then sent the same rows again.
    The thread dies with the process, so a killed worker's rows still come back after one lease.
    """

    def __init__(self, campaign_id: int, token: str, lease_seconds: float,
                 heartbeat: Callable[[], None] | None = None) -> None:
        self.campaign_id = campaign_id
        self.token = token
        self.lease_seconds = lease_seconds
        self.heartbeat = heartbeat
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease-keeper-{campaign_id}", daemon=True)

    def __enter__(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        interval = max(0.05, self.lease_seconds / 4)
        while not self._stop.wait(interval):
            try:
                with session_scope() as session:
                    ledger.renew(session, self.campaign_id, self.lease_seconds, self.token)
                if self.heartbeat is not None:
                    self.heartbeat()
            except Exception:  # the loop's own re-check stops sending if the claim is really lost
                log.warning("could not renew the claim on campaign %s", self.campaign_id, exc_info=True)


class _Batch:
    """One claimed batch in flight: who may still be mailed, and the outcomes not yet written."""

    def __init__(self, campaign_id: int, claimed: list[Claimed], token: str, list_ids: list[int],
                 settings: Settings) -> None:
        self.campaign_id = campaign_id
        self.token = token
        self.list_ids = list_ids
        self.settings = settings
        self.pending = {c.delivery_id: c for c in claimed}
        self.outcomes: list[Outcome] = []
        self.state: CampaignState | None = CampaignState.RUNNING
        with session_scope() as session:
            ids = [c.subscriber_id for c in claimed if c.subscriber_id is not None]
            self.contacts = audience.contacts(session, ids, list_ids, settings)
        self.allowed = set(self.contacts)
        self.checked = time.monotonic()

    def recheck_if_due(self) -> None:
        if time.monotonic() - self.checked >= RECHECK_SECONDS:
            self.recheck()

    def recheck(self) -> int:
        """Write results so far, then learn again what may go: the campaign's state, the rows this
        claim still holds, and which of their readers may still be mailed. Returns results written."""
        written = self.flush()
        with session_scope() as session:
            self.state = campaigns.state_of(session, self.campaign_id)
            held = ledger.held(session, list(self.pending), self.token)
            waiting = [c.subscriber_id for c in self.pending.values() if c.subscriber_id is not None]
            self.allowed = audience.may_receive(session, waiting, self.list_ids)
        for lost in set(self.pending) - held:
            # A cancel ended the row, or this worker stalled past its lease and another took it.
            log.warning("delivery %s is no longer held by this worker; not sending it here", lost,
                        extra={"delivery_id": lost})
            del self.pending[lost]
        self.checked = time.monotonic()
        return written

    def may_send(self, claim: Claimed) -> bool:
        return claim.subscriber_id in self.allowed and claim.subscriber_id in self.contacts

    def settle(self, claim: Claimed, outcome: Outcome) -> None:
        self.pending.pop(claim.delivery_id, None)
        self.outcomes.append(outcome)

    def flush(self) -> int:
        if not self.outcomes:
            return 0
        outcomes, self.outcomes = self.outcomes, []
        with session_scope() as session:
            written = ledger.settle(session, outcomes, self.token)
        if written < len(outcomes):
            log.warning("%d result(s) of campaign %s were not written: their rows were taken from this worker",
                        len(outcomes) - written, self.campaign_id)
        return written

    def give_back(self, at: float | None = None) -> None:
        """Rows not sent go back to the queue, or end skipped when the campaign was cancelled."""
        rows, self.pending = list(self.pending.values()), {}
        if not rows:
            return
        with session_scope() as session:
            if campaigns.state_of(session, self.campaign_id) is CampaignState.CANCELLED:
                ledger.release(session, rows, self.token, state=DeliveryState.SKIPPED, reason="campaign cancelled")
            else:
                when = utcnow() + timedelta(seconds=at) if at else None
                ledger.release(session, rows, self.token, at=when)


class _ServerUnreachable(Exception):
    """The connection failed: this row's outcome, and how long the rest of the batch should wait."""

    def __init__(self, outcome: Outcome, delay: float) -> None:
        super().__init__(outcome.reply)
        self.outcome = outcome
        self.delay = delay


@dataclass
class _Pace:
    """Rate-limit permits in hand, and how hard the server last pushed back."""

    permits: int = 0
    throttle_delay: float = 1.0


def work(
    campaign_id: int,
    settings: Settings,
    transport: Transport,
    limiter: Limiter,
    *,
    max_seconds: float = 60.0,
    heartbeat: Callable[[], None] | None = None,
) -> WorkReport:
    """Send this campaign's claimable rows until none are left, it stops running, or `max_seconds` pass."""
    with log_context(campaign_id=campaign_id):  # every line written meanwhile says which campaign
        return _work(campaign_id, settings, transport, limiter, max_seconds, heartbeat)


def _work(campaign_id: int, settings: Settings, transport: Transport, limiter: Limiter, max_seconds: float,
          heartbeat: Callable[[], None] | None) -> WorkReport:
    report = WorkReport()
    token = ledger.new_claim_token()
    deadline = time.monotonic() + max_seconds
    pace = _Pace()
    with LeaseKeeper(campaign_id, token, settings.send_lease_seconds, heartbeat):
        while time.monotonic() < deadline:
            if heartbeat is not None:
                heartbeat()
            with session_scope() as session:
                campaign = session.get(Campaign, campaign_id)
                if campaign is None or campaign.state is not CampaignState.RUNNING:
                    report.stopped_because = campaign.state.value if campaign else "missing"
                    return report
                try:
                    prepared, list_ids = prepared_for(session, campaign, settings)
                except SQLAlchemyError:
                    raise  # the database is away: nothing is wrong with the campaign; the next slice retries
                except Exception as error:  # noqa: BLE001 — any failure to build the message stops only this campaign
                    reason = f"the message could not be built: {error}"
                    log.error("campaign %s failed: %s", campaign_id, reason)
                    failed = True
                else:
                    failed = False
            if failed:
                with session_scope() as session:
                    campaigns.fail(session, campaign_id, reason)
                report.stopped_because = "failed"
                return report
            with session_scope() as session:
                claimed = ledger.claim_batch(session, campaign_id, batch_size(settings),
                                             settings.send_lease_seconds, token)
            if not claimed:
                _wind_up(campaign_id, report)
                return report
            _send_batch(_Batch(campaign_id, claimed, token, list_ids, settings), claimed, prepared, settings,
                        transport, limiter, pace, report)
            if report.stopped_because:
                return report
    report.stopped_because = "time slice used"
    report.retry_after = 0.0
    return report


def _wind_up(campaign_id: int, report: WorkReport) -> None:
    """Nothing left to claim: finish the campaign if every row is final, or say when to look again."""
    with session_scope() as session:
        report.finished = ledger.finish_if_done(session, campaign_id)
        if report.finished:
            campaigns.on_finished(session, campaign_id)
            log.info("campaign %s finished: every delivery is in a final state", campaign_id)
        due = None if report.finished else ledger.next_due(session, campaign_id)
    if due is not None:
        report.retry_after = max(0.0, (due - utcnow()).total_seconds())
    report.stopped_because = "finished" if report.finished else "nothing claimable"


def _send_batch(batch: _Batch, claimed: list[Claimed], prepared: PreparedMessage, settings: Settings,
                transport: Transport, limiter: Limiter, pace: _Pace, report: WorkReport) -> None:
    signer = signer_for(settings)
    retry_in: float | None = None
    try:
        for claim in claimed:
            if claim.delivery_id not in batch.pending:
                continue
            if pace.permits == 0:
                pace.permits = limiter.acquire(PERMIT_CHUNK)
            # After any wait for the rate limit, and at least every RECHECK_SECONDS: a message goes
            # only to someone who may still be mailed, from a row this worker still holds.
            batch.recheck_if_due()
            if batch.state is not CampaignState.RUNNING:
                report.stopped_because = batch.state.value if batch.state else "missing"
                break
            if claim.delivery_id not in batch.pending:
                continue
            if not batch.may_send(claim):
                batch.settle(claim, Outcome(claim.delivery_id, DeliveryState.SKIPPED, claim.attempts,
                                            reason="no longer subscribed"))
                continue
            pace.permits -= 1
            try:
                outcome = _send_one(claim, batch.contacts[claim.subscriber_id], prepared, signer, settings,
                                    transport, limiter, pace)
            except _ServerUnreachable as unreachable:
                batch.settle(claim, unreachable.outcome)
                retry_in = unreachable.delay
                report.stopped_because = "smtp unreachable"
                report.retry_after = unreachable.delay
                break
            batch.settle(claim, outcome)
            if outcome.state is DeliveryState.SENT:
                report.sent += 1
            if len(batch.outcomes) >= FLUSH_EVERY:
                report.settled += batch.flush()
    except DailyQuotaReached as quota:
        report.stopped_because = str(quota)
        report.retry_after = (quota.resume_at - utcnow()).total_seconds()
    except LimiterUnavailable as error:
        # The shared limit cannot be consulted: send nothing unpaced, keep nothing claimed, try again shortly.
        log.warning("rate limiter unavailable: %s", error)
        report.stopped_because = "rate limiter unavailable"
        report.retry_after = 2.0
    finally:
        report.settled += batch.flush()
        batch.give_back(at=retry_in)


def _send_one(claim: Claimed, contact: audience.Contact, prepared: PreparedMessage, signer, settings: Settings,  # type: ignore[no-untyped-def]
              transport: Transport, limiter: Limiter, pace: _Pace) -> Outcome:
    """Build one reader's message, hand it to the server, and say what became of the row."""
    attempts = claim.attempts + 1
    try:
        message = prepared.build(Recipient(claim.delivery_id, contact.email, contact.name, contact.unsubscribe_url,
                                           contact.mailto_unsubscribe, contact.preferences_url))
        if signer is not None:
            message = signer.sign(message)
    except ValueError as error:
        # Something stored for this reader cannot go in a message (a header value, say): theirs alone fails.
        return Outcome(claim.delivery_id, DeliveryState.FAILED, attempts, reply=str(error)[:500],
                       reason="message could not be built")
    envelope = verp_address(claim.delivery_id, settings.sender_domain, settings.secret_key)
    try:
        reply = transport.send(envelope, contact.email, message)
    except Throttled as error:
        # Not this reader's fault: put the row back without using an attempt and slow everyone.
        limiter.penalise(pace.throttle_delay)
        pace.throttle_delay = min(pace.throttle_delay * 2, 60.0)
        # Permits already in hand would send straight into the same refusal and double the penalty
        # each time; drop them so this worker waits out the penalty like the others.
        pace.permits = 0
        return Outcome(claim.delivery_id, DeliveryState.QUEUED, claim.attempts, reply=str(error), reason="throttled")
    except PermanentFailure as error:
        # The code only: a server's reply often quotes the reader's address, which no log line may hold.
        log.info("delivery %s refused by the server (%s): bounced", claim.delivery_id, error.code,
                 extra={"delivery_id": claim.delivery_id})
        if not error.reply.lstrip().startswith("5.7"):
            with session_scope() as session:
                audience.hard_bounce(session, contact.email, str(error))
        return Outcome(claim.delivery_id, DeliveryState.BOUNCED, attempts, reply=str(error), reason="smtp 5xx")
    except TemporaryFailure as error:
        delay = backoff(attempts, settings.send_retry_base_seconds)
        outcome = _retry_or_fail(claim, attempts, error, delay, settings)
        if error.code == 0:
            # The server cannot be reached: the rest of the batch goes back for the same later time.
            raise _ServerUnreachable(outcome, delay) from None
        return outcome
    pace.throttle_delay = max(1.0, pace.throttle_delay / 2)
    return Outcome(claim.delivery_id, DeliveryState.SENT, attempts, reply=reply,
                   message_id=prepared.message_id(claim.delivery_id), sent_at=utcnow())


def _retry_or_fail(claim: Claimed, attempts: int, error: TemporaryFailure, delay: float, settings: Settings) -> Outcome:
    if attempts >= settings.send_max_attempts:
        log.info("delivery %s failed after %d tries (last reply %s)", claim.delivery_id, attempts, error.code,
                 extra={"delivery_id": claim.delivery_id})
        return Outcome(claim.delivery_id, DeliveryState.FAILED, attempts, reply=str(error), reason="gave up after retries")
    return Outcome(claim.delivery_id, DeliveryState.QUEUED, attempts, reply=str(error), reason="will retry",
                   next_attempt_at=utcnow() + timedelta(seconds=delay))
