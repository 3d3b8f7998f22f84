"""The rows behind lists, subscribers, their subscriptions, the consent log and the suppression list.

Being on a SEND families list says something sensitive about a household, so the schema keeps
little: an address, an optional name, free attributes the team chose to import, and the evidence
of consent. Enumerations are stored as plain text (not database enums), like the issue status, so
adding a state is a one-line migration on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Enum, ForeignKey, Index, Integer, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from newsletter.db import Base, UTCDateTime, utcnow


def _text_enum(enum_type: type[enum.Enum], name: str, length: int = 20) -> Enum:
    return Enum(
        enum_type, name=name, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e]
    )


class SubscriberStatus(str, enum.Enum):
    ACTIVE = "active"
    # Left every list on purpose: imports and the team cannot add them back; only they can, through the form.
    UNSUBSCRIBED = "unsubscribed"
    BOUNCED = "bounced"
    COMPLAINED = "complained"


class SubscriptionStatus(str, enum.Enum):
    UNCONFIRMED = "unconfirmed"
    CONFIRMED = "confirmed"
    UNSUBSCRIBED = "unsubscribed"


class ConsentAction(str, enum.Enum):
    SUBSCRIBE = "subscribe"
    CONFIRM = "confirm"
    PREFERENCES = "preferences"
    UNSUBSCRIBE = "unsubscribe"
    ERASE = "erase"
    BOUNCE = "bounce"
    COMPLAINT = "complaint"
    PURGE = "purge"


class ConsentSource(str, enum.Enum):
    FORM = "form"
    IMPORT = "import"
    ADMIN = "admin"
    ONE_CLICK = "one-click"
    UNSUBSCRIBE_PAGE = "unsubscribe-page"
    MAILTO = "mailto"
    PREFERENCE_CENTRE = "preference-centre"
    BOUNCE = "bounce"
    COMPLAINT = "complaint"
    SYSTEM = "system"


class SuppressionReason(str, enum.Enum):
    HARD_BOUNCE = "hard_bounce"
    COMPLAINT = "complaint"
    ERASED = "erased"
    MANUAL = "manual"


class MailingList(Base):
    """A topic a family can join, such as "Short breaks and activities"."""

    __tablename__ = "lists"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The slug appears in List-Id headers and form addresses, so it never changes once created.
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # Shown on the subscribe form as the plain statement of what people will get; logged as consent wording.
    description: Mapped[str] = mapped_column(Text, default="")
    public: Mapped[bool] = mapped_column(Boolean, default=True)
    double_opt_in: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Subscriber(Base):
    """One address. `token_key` is what personal links carry instead of the id (see subscribers/links.py)."""

    __tablename__ = "subscribers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Normalised and lower-cased (subscribers/emails.py), so uniqueness is case-insensitive by construction.
    email: Mapped[str] = mapped_column(String(320), unique=True)
    # The suppression list is keyed by this hash, so the send-time check is a join, not a Python loop.
    email_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # Not indexed on purpose: nearly everyone is active, and with stale statistics PostgreSQL chose that
    # index over the primary key for the send-time check, scanning every subscriber each time.
    status: Mapped[SubscriberStatus] = mapped_column(
        _text_enum(SubscriberStatus, "subscriber_status"), default=SubscriberStatus.ACTIVE
    )
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    token_key: Mapped[str] = mapped_column(String(16), unique=True)
    # Throttles confirmation and "your link" emails so the public form cannot be used to flood a mailbox.
    last_emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    subscriptions: Mapped[list[Subscription]] = relationship(
        back_populates="subscriber", cascade="all, delete-orphan", passive_deletes=True
    )


class Subscription(Base):
    """A subscriber on one list. Only `confirmed` rows are ever mailed an issue."""

    __tablename__ = "subscriptions"
    __table_args__ = (Index("ix_subscriptions_list_id_status", "list_id", "status"),)

    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"), primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("lists.id", ondelete="CASCADE"), primary_key=True)
    status: Mapped[SubscriptionStatus] = mapped_column(
        _text_enum(SubscriptionStatus, "subscription_status"), default=SubscriptionStatus.UNCONFIRMED
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    subscriber: Mapped[Subscriber] = relationship(back_populates="subscriptions")
    mailing_list: Mapped[MailingList] = relationship()


class ConsentEntry(Base):
    """One line of the consent log: what happened, when, through what, and the words the person saw.

    Append-only: the ORM refuses updates and deletes (see below). When a person is erased the
    database sets `subscriber_id` to NULL on their old lines, which leaves them anonymous, and the
    erasure line itself carries only the one-way hash of the address.
    """

    __tablename__ = "consent_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    subscriber_id: Mapped[int | None] = mapped_column(
        ForeignKey("subscribers.id", ondelete="SET NULL"), nullable=True, index=True
    )
    list_id: Mapped[int | None] = mapped_column(ForeignKey("lists.id", ondelete="SET NULL"), nullable=True)
    email_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    action: Mapped[ConsentAction] = mapped_column(_text_enum(ConsentAction, "consent_action"))
    source: Mapped[ConsentSource] = mapped_column(_text_enum(ConsentSource, "consent_source", length=30))
    wording: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ConsentLogIsAppendOnly(Exception):
    """Raised when code tries to change or delete a consent log line: the log is evidence."""


@event.listens_for(ConsentEntry, "before_update")
def _refuse_update(_mapper: object, _connection: object, target: ConsentEntry) -> None:
    raise ConsentLogIsAppendOnly(f"consent log line {target.id} cannot be changed; add a new line instead")


@event.listens_for(ConsentEntry, "before_delete")
def _refuse_delete(_mapper: object, _connection: object, target: ConsentEntry) -> None:
    raise ConsentLogIsAppendOnly(f"consent log line {target.id} cannot be deleted")


class Suppression(Base):
    """An address never to be mailed. Erased people are kept only as the hash, so the address is gone."""

    __tablename__ = "suppressions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Kept for bounces and complaints so the team can see who and why; always NULL for an erasure.
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    reason: Mapped[SuppressionReason] = mapped_column(_text_enum(SuppressionReason, "suppression_reason"))
    source: Mapped[str] = mapped_column(String(30))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
