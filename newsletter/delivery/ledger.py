"""The delivery ledger: the queries that claim, release and settle delivery rows, all in one place.

A row is claimed by moving it to `sending` with a lease; settled by moving it to a final state
(or back to `queued` with a time for the next attempt). A row whose lease ran out belongs to a
worker that died, and the next claim takes it back. On PostgreSQL the claim skips rows another
worker holds (`FOR UPDATE SKIP LOCKED`); SQLite has one writer at a time, so its claim is atomic as is.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, case, exists, func, or_, select, update
from sqlalchemy.orm import Session

from newsletter.db import utcnow
from newsletter.delivery.models import FINAL_STATES, Campaign, CampaignState, Delivery, DeliveryState


@dataclass(frozen=True)
class Claimed:
    delivery_id: int
    subscriber_id: int
    attempts: int


@dataclass
class Outcome:
    """What happened to one claimed row, to be written back in bulk."""

    delivery_id: int
    state: DeliveryState
    attempts: int
    reply: str = ""
    reason: str = ""
    message_id: str = ""
    next_attempt_at: datetime | None = None
    sent_at: datetime | None = None


def _claimable(campaign_id: int, now: datetime):  # type: ignore[no-untyped-def]
    return and_(
        Delivery.campaign_id == campaign_id,
        # Implied by what follows; written out so the planner can use the partial index of unsent rows.
        Delivery.state.in_([DeliveryState.QUEUED.value, DeliveryState.SENDING.value]),
        or_(
            and_(
                Delivery.state == DeliveryState.QUEUED,
                or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= now),
            ),
            and_(Delivery.state == DeliveryState.SENDING, Delivery.lease_until < now),
        ),
    )


def new_claim_token() -> str:
    return secrets.token_hex(8)


def lock_campaign(session: Session, campaign_id: int) -> CampaignState | None:
    """Take the campaign's row lock for this transaction and return its state as committed now.

    Every change of a campaign's state, and every bulk change of its rows that depends on that state
    (finish, cancel, retry, pause, resume, the scheduled start), runs under this lock, so each sees
    what the one before it committed instead of a stale read. PostgreSQL locks the row; SQLite has
    one writer, so a write at the start of the transaction takes the database's write lock.
    """
    if session.get_bind().dialect.name == "postgresql":
        state = session.scalar(select(Campaign.state).where(Campaign.id == campaign_id).with_for_update())
    else:
        session.execute(update(Campaign).where(Campaign.id == campaign_id).values(state=Campaign.state)
                        .execution_options(synchronize_session=False))
        state = session.scalar(select(Campaign.state).where(Campaign.id == campaign_id))
    if state is not None:
        # Objects loaded before the lock may hold an older state; read them again after it.
        campaign = session.get(Campaign, campaign_id, populate_existing=True)
        assert campaign is not None
    return CampaignState(state) if state is not None else None


def claim_batch(
    session: Session, campaign_id: int, size: int, lease_seconds: float, token: str
) -> list[Claimed]:
    """Take up to `size` rows under `token`; commit straight after so other workers see the lease.

    Only while the campaign is running: a pause or cancel committed before the claim leaves its rows alone.
    """
    now = utcnow()
    running = exists().where(Campaign.id == campaign_id, Campaign.state == CampaignState.RUNNING)
    chosen = (select(Delivery.id).where(_claimable(campaign_id, now), running)
              .order_by(Delivery.id).limit(size))
    if session.get_bind().dialect.name == "postgresql":
        # A CTE runs once. Written as `id IN (subquery)`, PostgreSQL may run the LIMIT subquery again
        # for each row it updates and claim far more than `size` rows (seen: 4,763 in one claim).
        chosen = chosen.with_for_update(skip_locked=True)
    claim = chosen.cte("claim")
    statement = (
        update(Delivery)
        # The claimable test is repeated outside the CTE: if another worker took a row between our
        # read and our write, PostgreSQL re-checks this condition and leaves the row alone.
        .where(Delivery.id == claim.c.id, _claimable(campaign_id, now))
        .values(state=DeliveryState.SENDING, lease_until=now + timedelta(seconds=lease_seconds), updated_at=now,
                claim_token=token)
        .returning(Delivery.id, Delivery.subscriber_id, Delivery.attempts)
        .execution_options(synchronize_session=False)
    )
    rows = session.execute(statement).all()
    return sorted((Claimed(r[0], r[1], r[2]) for r in rows), key=lambda c: c.delivery_id)


_SETTLE = (
    update(Delivery)
    .where(Delivery.id == bindparam("b_id"), Delivery.claim_token == bindparam("b_token"))
    .values(
        state=bindparam("b_state"),
        attempts=bindparam("b_attempts"),
        last_reply=bindparam("b_reply"),
        reason=bindparam("b_reason"),
        message_id=bindparam("b_message_id"),
        next_attempt_at=bindparam("b_next"),
        sent_at=bindparam("b_sent_at"),
        lease_until=None,
        claim_token="",
        updated_at=bindparam("b_now"),
    )
)


def settle(session: Session, outcomes: list[Outcome], token: str) -> int:
    """Write many rows' results in one executemany, only for rows this claim still holds.

    Returns how many rows were written. Fewer than given means rows were taken from this claim
    (a cancel, or a stall past the lease); the caller says so, since a result is being dropped.
    """
    if not outcomes:
        return 0
    now = utcnow()
    result = session.connection().execute(
        _SETTLE,
        [
            {
                "b_id": o.delivery_id,
                "b_token": token,
                "b_state": o.state.value,
                "b_attempts": o.attempts,
                "b_reply": o.reply[:2000],
                "b_reason": o.reason[:60],
                "b_message_id": o.message_id,
                "b_next": o.next_attempt_at,
                "b_sent_at": o.sent_at,
                "b_now": now,
            }
            for o in outcomes
        ],
    )
    return int(result.rowcount) if result.rowcount is not None and result.rowcount >= 0 else len(outcomes)


def renew(session: Session, campaign_id: int, lease_seconds: float, token: str) -> set[int]:
    """Extend the lease on every row this claim still holds; returns their ids (others were taken from it)."""
    held = session.execute(
        update(Delivery)
        .where(Delivery.campaign_id == campaign_id, Delivery.claim_token == token,
               Delivery.state == DeliveryState.SENDING)
        .values(lease_until=utcnow() + timedelta(seconds=lease_seconds))
        .returning(Delivery.id)
        .execution_options(synchronize_session=False)
    ).scalars()
    return set(held)


def held(session: Session, delivery_ids: list[int], token: str) -> set[int]:
    """Which of these rows this claim still holds with time left on the lease: the only ones it may send."""
    if not delivery_ids:
        return set()
    return set(session.scalars(
        select(Delivery.id).where(Delivery.id.in_(delivery_ids), Delivery.claim_token == token,
                                  Delivery.state == DeliveryState.SENDING, Delivery.lease_until > utcnow())
    ))


def release(session: Session, claimed: list[Claimed], token: str, at: datetime | None = None,
            state: DeliveryState = DeliveryState.QUEUED, reason: str = "") -> None:
    """Give rows back unsent (pause, a dead connection), or end them unsent (cancel), without an attempt."""
    settle(
        session,
        [Outcome(c.delivery_id, state, c.attempts, next_attempt_at=at, reason=reason) for c in claimed],
        token,
    )


def skip_unsent(session: Session, campaign_id: int, reason: str) -> int:
    """End a stopped campaign's rows that nobody will send: queued ones, and claims whose worker is gone.

    Rows a live worker holds are left to it: it sees the campaign stopped within a re-check and
    ends them itself, so a message already being handed to the server is recorded as what it was.
    """
    now = utcnow()
    result = session.execute(
        update(Delivery)
        .where(
            Delivery.campaign_id == campaign_id,
            Delivery.state.in_([DeliveryState.QUEUED.value, DeliveryState.SENDING.value]),
            or_(Delivery.state == DeliveryState.QUEUED, Delivery.lease_until < now),
        )
        .values(state=DeliveryState.SKIPPED, reason=reason, lease_until=None, claim_token="", updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)


def counts(session: Session, campaign_id: int) -> dict[DeliveryState, int]:
    rows = session.execute(
        select(Delivery.state, func.count()).where(Delivery.campaign_id == campaign_id).group_by(Delivery.state)
    ).all()
    found = {state: 0 for state in DeliveryState}
    found.update({DeliveryState(state): n for state, n in rows})
    return found


def unfinished(campaign_id: int):  # type: ignore[no-untyped-def]
    return exists().where(
        Delivery.campaign_id == campaign_id, Delivery.state.not_in([s.value for s in FINAL_STATES])
    )


def next_due(session: Session, campaign_id: int) -> datetime | None:
    """When the next row of this campaign can be claimed (a retry time or a lease end), if any."""
    when = case(
        (Delivery.state == DeliveryState.SENDING, Delivery.lease_until),
        else_=func.coalesce(Delivery.next_attempt_at, func.now()),
    )
    return session.scalar(
        select(func.min(when)).where(
            Delivery.campaign_id == campaign_id,
            Delivery.state.in_([DeliveryState.QUEUED.value, DeliveryState.SENDING.value]),
        )
    )


def finish_if_done(session: Session, campaign_id: int) -> bool:
    """Mark the campaign finished only when every row is final.

    Under the campaign's lock, and the rows are counted after taking it: a retry of failed rows that
    committed meanwhile is seen, so a campaign never ends `finished` with rows still to send.
    """
    if lock_campaign(session, campaign_id) is not CampaignState.RUNNING:
        return False
    if session.scalar(select(unfinished(campaign_id))):
        return False
    session.execute(
        update(Campaign)
        .where(Campaign.id == campaign_id, Campaign.state == CampaignState.RUNNING)
        .values(state=CampaignState.FINISHED, finished_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return True


@dataclass
class Progress:
    campaign_id: int
    state: CampaignState
    counts: dict[DeliveryState, int] = field(default_factory=dict)
    rate_per_second: float = 0.0
    seconds_left: float | None = None
    failure_reason: str = ""  # why a failed campaign stopped, in words the team can act on
    # When its rows lost their link to the readers (delivery/retention.py); the counts are unchanged.
    recipients_removed_at: datetime | None = None

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def done(self) -> int:
        return sum(n for state, n in self.counts.items() if state in FINAL_STATES)


def progress(session: Session, campaign: Campaign, window_seconds: int = 60) -> Progress:
    found = counts(session, campaign.id)
    since = utcnow() - timedelta(seconds=window_seconds)
    recent = session.scalar(
        select(func.count()).where(
            Delivery.campaign_id == campaign.id, Delivery.state == DeliveryState.SENT, Delivery.sent_at >= since
        )
    ) or 0
    started = campaign.started_at
    span = window_seconds
    if started is not None:
        span = max(1.0, min(window_seconds, (utcnow() - started).total_seconds()))
    rate = recent / span
    left = found[DeliveryState.QUEUED] + found[DeliveryState.SENDING]
    eta = (left / rate) if rate > 0 else (0.0 if left == 0 else None)
    return Progress(campaign.id, campaign.state, found, rate, eta, campaign.failure_reason,
                    campaign.recipients_removed_at)
