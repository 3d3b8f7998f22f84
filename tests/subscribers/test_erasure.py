"""Erasure by the team, and the purge of requests nobody confirmed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from newsletter.config import Settings
from newsletter.db import session_scope
from subscribers import erasure, membership, store, team
from subscribers.errors import NotAllowed, SubscriberNotFound
from subscribers.models import ConsentAction, ConsentEntry, ConsentSource, Subscriber, Subscription, SubscriptionStatus
from tests.subscribers.conftest import Lists


def _join(email: str, list_id: int, confirmed: bool) -> None:
    with session_scope() as session:
        person, _ = store.get_or_create_subscriber(session, email)
        lst = store.lists_by_id(session, [list_id])[0]
        if confirmed:
            membership.add_confirmed(session, person, lst, source=ConsentSource.ADMIN, wording="test")
        else:
            membership.add_unconfirmed(session, person, lst, source=ConsentSource.FORM, wording="test")


def _age(email: str, days: int) -> None:
    with session_scope() as session:
        person = store.get_subscriber(session, email)
        then = person.created_at - timedelta(days=days)
        session.execute(update(Subscriber).where(Subscriber.id == person.id).values(created_at=then))
        session.execute(update(Subscription).where(Subscription.subscriber_id == person.id).values(created_at=then))


def test_purge_removes_only_stale_unconfirmed_requests(db: Settings, lists: Lists) -> None:
    _join("stale@example.org", lists.news, confirmed=False)
    _join("fresh@example.org", lists.news, confirmed=False)
    _join("mixed@example.org", lists.news, confirmed=True)
    _join("mixed@example.org", lists.breaks, confirmed=False)
    _join("left@example.org", lists.news, confirmed=True)
    with session_scope() as session:
        membership.leave(session, store.get_subscriber(session, "left@example.org"), None, source=ConsentSource.ADMIN)
    for email in ("stale@example.org", "mixed@example.org", "left@example.org"):
        _age(email, 20)
    with session_scope() as session:
        result = erasure.purge_unconfirmed(session, timedelta(days=14))
    assert (result.subscriptions, result.subscribers) == (2, 1)
    with session_scope() as session:
        assert store.find_subscriber(session, "stale@example.org") is None
        assert store.find_subscriber(session, "fresh@example.org") is not None
        mixed = store.get_subscriber(session, "mixed@example.org")
        assert [lst.slug for _, lst in store.subscriptions_of(session, mixed.id)] == ["send-news"]
        left = store.get_subscriber(session, "left@example.org")
        assert [row.status for row, _ in store.subscriptions_of(session, left.id)] == [SubscriptionStatus.UNSUBSCRIBED]
        purges = session.scalars(select(ConsentEntry).where(ConsentEntry.action == ConsentAction.PURGE)).all()
        assert len(purges) == 2
    with session_scope() as session:
        assert erasure.purge_unconfirmed(session, timedelta(days=14)).subscriptions == 0


def test_team_erasure_keeps_only_a_hash(db: Settings, lists: Lists) -> None:
    _join("jo@example.org", lists.news, confirmed=True)
    with session_scope() as session:
        with pytest.raises(SubscriberNotFound):
            erasure.erase_email(session, "nobody@example.org")
        erasure.erase_email(session, " JO@example.org")
    with session_scope() as session:
        assert store.find_subscriber(session, "jo@example.org") is None
        assert session.scalars(select(Subscription)).all() == []
        # The team cannot add them back; only they can, through the form.
        with pytest.raises(NotAllowed, match="erased"):
            team.add_subscriber(session, db, "jo@example.org", store.lists_by_id(session, [lists.news]), consent="x")


def test_team_cannot_add_back_someone_who_left(db: Settings, lists: Lists) -> None:
    _join("jo@example.org", lists.news, confirmed=True)
    with session_scope() as session:
        team.remove_subscriber(session, "jo@example.org", store.lists_by_id(session, [lists.news]))
    with session_scope() as session:
        with pytest.raises(NotAllowed, match="unsubscribed from 'SEND newsletter'"):
            team.add_subscriber(session, db, "jo@example.org", store.lists_by_id(session, [lists.news]), consent="x")
        _, notice = team.add_subscriber(session, db, "jo@example.org", store.lists_by_id(session, [lists.breaks]),
                                             consent="Phone call, 4 May 2026")
        assert notice is None
    with session_scope() as session:
        team.remove_subscriber(session, "jo@example.org", None)
    with session_scope() as session, pytest.raises(NotAllowed, match="unsubscribed"):
        team.add_subscriber(session, db, "jo@example.org", store.lists_by_id(session, [lists.adults]), consent="x")


def test_list_slugs_and_names_are_checked(db: Settings) -> None:
    from subscribers.errors import InvalidList, ListNotFound, ListSlugTaken

    with session_scope() as session:
        store.create_list(session, "short-breaks", "Short breaks")
        with pytest.raises(ListSlugTaken):
            store.create_list(session, "short-breaks", "Again")
        for slug in ("Short Breaks", "-x", "a_b", ""):
            with pytest.raises(InvalidList):
                store.create_list(session, slug, "Name")
        with pytest.raises(InvalidList):
            store.create_list(session, "ok", "   ")
        with pytest.raises(ListNotFound, match="newsletter lists list"):
            store.get_list(session, "nope")


def test_addresses_are_unique_whatever_the_case(db: Settings) -> None:
    from subscribers.emails import normalise_email

    with session_scope() as session:
        first, created = store.get_or_create_subscriber(session, normalise_email("Jo@Example.org"))
        second, created_again = store.get_or_create_subscriber(session, normalise_email("jo@EXAMPLE.ORG "))
        assert created and not created_again and first.id == second.id
        assert store.find_subscriber(session, "JO@example.org").id == first.id
        assert store.find_subscriber(session, "not an address") is None
