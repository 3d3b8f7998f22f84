"""Exporting a list as CSV, in the shape `subscribers import` reads back.

Streams in keyset batches, so a 100,000-row list costs the same memory as a 100-row one. Cells that
a spreadsheet would run as a formula are protected, headings included (see csvsafe.py). Addresses on
the suppression list (bounced, complained, or erased and signing up again) are left out: a spreadsheet
made from an export must not carry them into another system, or back in.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from typing import Any, TextIO

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from subscribers import csvsafe
from subscribers.models import MailingList, Subscriber, Subscription, SubscriptionStatus, Suppression

BATCH = 2000
COLUMNS = ["email", "name", "status", "subscribed_at", "confirmed_at"]


def _rows(session: Session, list_id: int, statuses: Sequence[SubscriptionStatus]) -> Iterator[Any]:
    last = 0
    while True:
        rows = session.execute(
            select(Subscriber.id, Subscriber.email, Subscriber.name, Subscriber.attributes, Subscription.status,
                   Subscription.created_at, Subscription.confirmed_at)
            .join(Subscription, Subscription.subscriber_id == Subscriber.id)
            .where(Subscription.list_id == list_id, Subscription.status.in_(list(statuses)), Subscriber.id > last,
                   ~exists().where(Suppression.email_hash == Subscriber.email_hash))
            .order_by(Subscriber.id)
            .limit(BATCH)
        ).all()
        yield from rows
        if len(rows) < BATCH:
            return
        last = rows[-1].id


def export_list(
    session: Session, mailing_list: MailingList, out: TextIO,
    statuses: Sequence[SubscriptionStatus] = (SubscriptionStatus.CONFIRMED,),
) -> int:
    """Write the list's subscribers with the given subscription statuses; returns the number of rows."""
    keys: set[str] = set()
    for row in _rows(session, mailing_list.id, statuses):
        keys.update((row.attributes or {}).keys())
    attribute_keys = sorted(keys)
    writer = csv.writer(out)
    # The headings too: an attribute's name is a heading someone typed in an imported file.
    writer.writerow([csvsafe.protect(heading) for heading in COLUMNS + attribute_keys])
    count = 0
    for row in _rows(session, mailing_list.id, statuses):
        attributes = row.attributes or {}
        cells = [
            row.email,
            row.name or "",
            row.status.value,
            row.created_at.isoformat(timespec="seconds") if row.created_at else "",
            row.confirmed_at.isoformat(timespec="seconds") if row.confirmed_at else "",
            *(str(attributes.get(key, "")) for key in attribute_keys),
        ]
        writer.writerow([csvsafe.protect(cell) for cell in cells])
        count += 1
    return count
