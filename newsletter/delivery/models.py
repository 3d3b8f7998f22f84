"""Campaigns and their delivery rows: the record of who was sent what.

The delivery rows, not the task queue, are the truth. A Celery message only says "work on campaign
C"; whoever works claims rows here, so a lost message or a killed worker costs time, never a
recipient. The unique key on (campaign, subscriber) makes a second row for the same reader impossible.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Column,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from newsletter.db import Base, UTCDateTime, utcnow
from newsletter.issues.models import Issue


def _enum(kind: type[enum.Enum], name: str) -> Enum:
    # Plain strings in the database, so adding a state is a one-line migration on both backends.
    return Enum(kind, name=name, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])


class CampaignState(str, enum.Enum):
    SCHEDULED = "scheduled"  # waiting for send_at
    RUNNING = "running"
    PAUSED = "paused"
    FINISHED = "finished"  # every delivery row is in a final state
    CANCELLED = "cancelled"
    # Its message could not be built (a stored value no header may carry, a template error): it stops
    # on its own, with the reason shown to the team, so other campaigns keep going. Resume retries it.
    FAILED = "failed"


# A campaign in one of these states still owns its issue: no second campaign of it may be made.
LIVE_STATES = frozenset({CampaignState.SCHEDULED, CampaignState.RUNNING, CampaignState.PAUSED, CampaignState.FAILED})


class DeliveryState(str, enum.Enum):
    QUEUED = "queued"
    SENDING = "sending"  # claimed by a worker; its lease says until when
    SENT = "sent"
    FAILED = "failed"  # gave up after retries; last_reply says why
    BOUNCED = "bounced"  # refused permanently (5xx or a hard-bounce report)
    SKIPPED = "skipped"  # not sendable at the moment of sending (unsubscribed, suppressed, ...)


FINAL_STATES = frozenset({DeliveryState.SENT, DeliveryState.FAILED, DeliveryState.BOUNCED, DeliveryState.SKIPPED})

campaign_lists = Table(
    "campaign_lists",
    Base.metadata,
    Column("campaign_id", ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True),
    Column("list_id", ForeignKey("lists.id", ondelete="RESTRICT"), primary_key=True),
)


class Campaign(Base):
    __tablename__ = "campaigns"
    __table_args__ = (
        # One live campaign per issue, enforced by the database whatever the application does.
        Index("uq_campaigns_live_issue", "issue_id", unique=True,
              postgresql_where=text("state IN ('scheduled', 'running', 'paused', 'failed')"),
              sqlite_where=text("state IN ('scheduled', 'running', 'paused', 'failed')")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="RESTRICT"), index=True)
    state: Mapped[CampaignState] = mapped_column(_enum(CampaignState, "campaign_state"), index=True)
    send_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_by: Mapped[str] = mapped_column(String(200), default="")
    # Which SMTP server (by name) paces this campaign's rate limit.
    smtp_name: Mapped[str] = mapped_column(String(60), default="default")
    failure_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    # When its delivery rows lost their link to a person (newsletter/delivery/retention.py); the counts stay.
    recipients_removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The report's "unsubscribed because of this issue", written down just before that happens: it is
    # worked out from whom the rows reached, which is then no longer known (newsletter/counts/report.py).
    unsubscribed_kept: Mapped[int | None] = mapped_column(Integer, nullable=True)

    issue: Mapped[Issue] = relationship(lazy="joined")


class Delivery(Base):
    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("campaign_id", "subscriber_id", name="uq_deliveries_campaign_subscriber"),
        # Counting a campaign's rows per state.
        Index("ix_deliveries_campaign_state", "campaign_id", "state", "id"),
        # The claim query: only rows still to send, in id order, so a claim reads its batch and stops
        # instead of sorting every unsent row of a 100,000-reader campaign (measured: 1.6 s a claim).
        Index("ix_deliveries_claimable", "campaign_id", "id",
              postgresql_where=text("state IN ('queued', 'sending')"),
              sqlite_where=text("state IN ('queued', 'sending')")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    # Erasing a reader keeps their rows without the link to them (SET NULL): what was sent stays counted.
    subscriber_id: Mapped[int | None] = mapped_column(ForeignKey("subscribers.id", ondelete="SET NULL"), index=True,
                                                      nullable=True)
    state: Mapped[DeliveryState] = mapped_column(_enum(DeliveryState, "delivery_state"), default=DeliveryState.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Until when the worker that claimed the row owns it; after that another may take it back.
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Which claim holds the row: a worker writes results and renews leases only for its own claim,
    # so one that stalled past its lease cannot overwrite the row's new owner.
    claim_token: Mapped[str] = mapped_column(String(32), default="", server_default="")
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_reply: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str] = mapped_column(String(60), default="")
    message_id: Mapped[str] = mapped_column(String(250), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class CampaignMessage(Base):
    """The email a campaign sends, rendered once when the campaign is made and never again.

    Every worker, a deploy or a theme change in the middle of a send, and a scheduled send days after
    approval all send exactly what was approved. The bodies keep their personal placeholders
    (`render.personalise`), filled for each reader as they go.
    """

    __tablename__ = "campaign_messages"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    subject: Mapped[str] = mapped_column(Text)
    from_address: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(35))
    list_id: Mapped[str] = mapped_column(Text)
    list_name: Mapped[str] = mapped_column(Text)
    email_html: Mapped[str] = mapped_column(Text)
    email_text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SendRateLimit(Base):
    """The shared send rate when there is no Redis: one GCRA clock per SMTP server, in the database,
    so `newsletter serve` and `newsletter send --wait` (or several web processes) share one limit."""

    __tablename__ = "send_rate_limits"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    tat_us: Mapped[int] = mapped_column(BigInteger)
    day: Mapped[str] = mapped_column(String(8))
    used: Mapped[int] = mapped_column(Integer)
