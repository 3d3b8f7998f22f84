"""The delivery engine's window onto subscribers: who may be mailed, and what bounces and complaints do."""

from __future__ import annotations

import base64

import pytest
from sqlalchemy import select

from newsletter.config import Settings
from newsletter.db import session_scope
from subscribers import api, erasure, links, membership, store
from subscribers.models import (
    ConsentAction,
    ConsentEntry,
    ConsentSource,
    SubscriberStatus,
    SubscriptionStatus,
    Suppression,
    SuppressionReason,
)
from tests.subscribers.conftest import Lists


def _person(email: str, *list_ids: int, confirmed: bool = True, name: str | None = None) -> int:
    with session_scope() as session:
        subscriber, _ = store.get_or_create_subscriber(session, email, name)
        for list_id in list_ids:
            lst = store.lists_by_id(session, [list_id])[0]
            if confirmed:
                membership.add_confirmed(session, subscriber, lst, source=ConsentSource.ADMIN, wording="test")
            else:
                membership.add_unconfirmed(session, subscriber, lst, source=ConsentSource.ADMIN, wording="test")
        return subscriber.id


def test_sendable_recipients_follow_every_rule(db: Settings, lists: Lists) -> None:
    both = _person("both@example.org", lists.news, lists.breaks, name="Both")
    news_only = _person("news@example.org", lists.news)
    _person("breaks@example.org", lists.breaks)
    _person("waiting@example.org", lists.news, confirmed=False)
    left = _person("left@example.org", lists.news)
    bounced = _person("bounced@example.org", lists.news)
    complained = _person("complained@example.org", lists.news)
    suppressed = _person("suppressed@example.org", lists.news)
    with session_scope() as session:
        membership.leave(session, session.get(store.Subscriber, left), None, source=ConsentSource.ADMIN)
        api.suppress(session, "BOUNCED@example.org", "hard_bounce", "bounce")
        api.suppress(session, "complained@example.org ", "complaint", "complaint")
        # Suppressed for a reason the subscriber row does not show: the send-time join must still catch it.
        store.add_suppression(session, store.subscriber_by_hash(session, _hash("suppressed@example.org")).email_hash,
                              SuppressionReason.MANUAL, "admin", "suppressed@example.org")

    with session_scope() as session:
        recipients = list(api.sendable_recipients(session, [lists.news, lists.breaks]))
        ids = [r.subscriber_id for r in recipients]
        assert len(ids) == len(set(ids)), "someone on two lists must get one copy"
        emails = {r.email for r in recipients}
        assert emails == {"both@example.org", "news@example.org", "breaks@example.org"}
        assert next(r for r in recipients if r.subscriber_id == both).name == "Both"
        assert ids == sorted(ids)
        assert {r.email for r in api.sendable_recipients(session, [lists.news])} == {
            "both@example.org", "news@example.org"}
        assert api.count_sendable(session, [lists.news, lists.breaks]) == 3
        assert list(api.sendable_recipients(session, [])) == []
        candidates = [both, news_only, left, bounced, complained, suppressed, 999_999]
        assert api.may_receive(session, candidates, [lists.news]) == {both, news_only}
        assert api.may_receive(session, candidates, [lists.adults]) == set()
        assert api.may_receive(session, [], [lists.news]) == set()


def _hash(email: str) -> str:
    from subscribers.emails import email_hash

    return email_hash(email)


def test_sendable_recipients_stream_in_batches(db: Settings, lists: Lists) -> None:
    for n in range(25):
        _person(f"reader{n}@example.org", lists.news)
    with session_scope() as session:
        found = [r.email for r in api.sendable_recipients(session, [lists.news], batch_size=4)]
    assert len(found) == 25 and len(set(found)) == 25


def test_may_receive_changes_at_once_when_someone_leaves(db: Settings, lists: Lists) -> None:
    reader = _person("reader@example.org", lists.news, lists.breaks)
    with session_scope() as session:
        assert api.record_unsubscribe(session, reader, [lists.news], "one-click") == [lists.news]
        assert api.record_unsubscribe(session, reader, [lists.news], "one-click") == []  # idempotent
    with session_scope() as session:
        assert api.may_receive(session, [reader], [lists.news]) == set()
        assert api.may_receive(session, [reader], [lists.news, lists.breaks]) == {reader}
        api.record_unsubscribe(session, reader, None, "mailto")
    with session_scope() as session:
        assert api.may_receive(session, [reader], [lists.news, lists.breaks]) == set()
        sources = [e.source for e in session.scalars(select(ConsentEntry).where(
            ConsentEntry.subscriber_id == reader, ConsentEntry.action == ConsentAction.UNSUBSCRIBE)
            .order_by(ConsentEntry.id))]
        assert sources == [ConsentSource.ONE_CLICK, ConsentSource.MAILTO]
        assert api.record_unsubscribe(session, 999_999, None, "mailto") == []


def test_hard_bounce_and_complaint_suppress_and_are_logged(db: Settings, lists: Lists) -> None:
    bounced = _person("bounced@example.org", lists.news)
    complained = _person("complained@example.org", lists.news, lists.breaks)
    with session_scope() as session:
        api.suppress(session, "Bounced@Example.org", "hard_bounce", "bounce")
        api.suppress(session, "bounced@example.org", "hard_bounce", "bounce")  # twice: one entry
        api.suppress(session, "complained@example.org", "complaint", "complaint")
        api.suppress(session, "stranger@example.org", "hard_bounce", "bounce")  # not a subscriber: still suppressed
    with session_scope() as session:
        rows = {s.email: s for s in session.scalars(select(Suppression))}
        assert set(rows) == {"bounced@example.org", "complained@example.org", "stranger@example.org"}
        assert rows["complained@example.org"].reason is SuppressionReason.COMPLAINT
        assert session.get(store.Subscriber, bounced).status is SubscriberStatus.BOUNCED
        person = session.get(store.Subscriber, complained)
        assert person.status is SubscriberStatus.COMPLAINED
        assert {row.status for row, _ in store.subscriptions_of(session, complained)} == {
            SubscriptionStatus.UNSUBSCRIBED}
        actions = [e.action for e in session.scalars(select(ConsentEntry).where(ConsentEntry.subscriber_id == complained))]
        assert ConsentAction.COMPLAINT in actions and ConsentAction.UNSUBSCRIBE in actions
        with pytest.raises(ValueError):
            api.suppress(session, "x@example.org", "bored", "bounce")


def test_links_identify_the_subscriber_only_through_token_key(db: Settings, lists: Lists) -> None:
    reader = _person("reader@example.org", lists.news)
    with session_scope() as session:
        recipient = next(iter(api.sendable_recipients(session, [lists.news])))
        url = api.unsubscribe_url(db, recipient, [lists.news])
        payload = base64.urlsafe_b64decode(url.split("/u/")[1].split(".")[0] + "==").decode()
        assert payload == f'"{recipient.token_key}{lists.news}"' and "@" not in url
        target = links.read_token(db, links.UNSUBSCRIBE, url.rsplit("/", 1)[1])
        assert store.subscriber_by_token_key(session, target.token_key).id == reader
        erasure.erase(session, session.get(store.Subscriber, reader), ConsentSource.ADMIN)
    with session_scope() as session:
        assert store.subscriber_by_token_key(session, target.token_key) is None


def test_consent_log_is_append_only(db: Settings, lists: Lists) -> None:
    from subscribers.models import ConsentLogIsAppendOnly

    _person("reader@example.org", lists.news)
    with pytest.raises(ConsentLogIsAppendOnly), session_scope() as session:
        entry = session.scalars(select(ConsentEntry)).first()
        entry.wording = "something else"
    with pytest.raises(ConsentLogIsAppendOnly), session_scope() as session:
        session.delete(session.scalars(select(ConsentEntry)).first())
    with session_scope() as session:
        assert session.scalars(select(ConsentEntry)).first().wording == "test"
