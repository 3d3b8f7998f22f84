"""Two identical POSTs at once (a double click, a mail provider repeating a one-click POST) are one event.

Each test sends two requests through the real web app in two threads and holds both just before their
first write until both have read (tests/subscribers/races.py), which is the interleaving that made a
read-check-write change happen twice. Afterwards the state is what one request makes, the consent log
has one line per event, and neither request failed.
"""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select

from newsletter.config import Settings
from newsletter.db import session_scope
from subscribers import erasure, links, membership, store
from subscribers.emails import email_hash
from subscribers.models import (
    ConsentAction,
    ConsentEntry,
    ConsentSource,
    Subscriber,
    SubscriberStatus,
    SubscriptionStatus,
    Suppression,
)
from tests.smtp import SmtpServer
from tests.subscribers.conftest import Lists, csrf_from, form_as_shown, links_in, path_of
from tests.subscribers.races import AllReadNoneWritten, at_once


def _jo(lists: Lists, *list_ids: int) -> Subscriber:
    with session_scope() as session:
        person, _ = store.get_or_create_subscriber(session, "jo@example.org", "Jo")
        for list_id in list_ids:
            membership.add_confirmed(session, person, store.lists_by_id(session, [list_id])[0],
                                     source=ConsentSource.ADMIN, wording="Paper form")
        return person


def _statuses(email: str = "jo@example.org") -> dict[str, SubscriptionStatus]:
    with session_scope() as session:
        person = store.find_subscriber(session, email)
        if person is None:
            return {}
        return {lst.slug: row.status for row, lst in store.subscriptions_of(session, person.id)}


def _lines(action: ConsentAction) -> list[ConsentEntry]:
    with session_scope() as session:
        return list(session.scalars(select(ConsentEntry).where(ConsentEntry.action == action)
                                    .order_by(ConsentEntry.id)))


def test_one_click_unsubscribe_posted_twice_at_once(app: Flask, lists: Lists, db: Settings) -> None:
    jo = _jo(lists, lists.news, lists.breaks)
    path = path_of(links.unsubscribe_url(db, jo, [lists.news]), db)
    clients = [app.test_client(), app.test_client()]
    with AllReadNoneWritten(2) as gate:
        answers = at_once(*(lambda c=c: c.post(path, data={"List-Unsubscribe": "One-Click"}) for c in clients),
                          gate=gate)
    assert gate.met == 2, "both requests read before either wrote"
    assert [a.status_code for a in answers] == [200, 200]
    assert _statuses() == {"send-news": SubscriptionStatus.UNSUBSCRIBED, "short-breaks": SubscriptionStatus.CONFIRMED}
    [line] = _lines(ConsentAction.UNSUBSCRIBE)
    assert (line.source, line.list_id, line.subscriber_id) == (ConsentSource.ONE_CLICK, lists.news, jo.id)


def test_confirmation_button_pressed_twice_at_once(app: Flask, lists: Lists, smtp: SmtpServer, db: Settings) -> None:
    # Someone erased once signs up again: confirming lifts their block, which must be logged once too.
    _jo(lists, lists.adults)
    with session_scope() as session:
        erasure.erase_email(session, "jo@example.org")
    first = app.test_client()
    token = csrf_from(first, "/subscribe")
    assert first.post("/subscribe", data={"email": "jo@example.org", "lists": [str(lists.news), str(lists.breaks)],
                                          "csrf_token": token}).status_code == 200
    confirm = path_of(links_in(smtp.messages[-1])[0], db)
    clients = [app.test_client(), app.test_client()]
    tokens = [csrf_from(client, confirm) for client in clients]
    with AllReadNoneWritten(2) as gate:
        answers = at_once(*(lambda c=c, t=t: c.post(confirm, data={"csrf_token": t})
                            for c, t in zip(clients, tokens)), gate=gate)
    assert gate.met == 2
    assert [a.status_code for a in answers] == [200, 200]
    assert all(b"You are subscribed" in a.data for a in answers)
    assert _statuses() == {"send-news": SubscriptionStatus.CONFIRMED, "short-breaks": SubscriptionStatus.CONFIRMED}
    confirms = _lines(ConsentAction.CONFIRM)
    jo_id = confirms[-1].subscriber_id
    mine = [(line.list_id, line.detail) for line in confirms if line.subscriber_id == jo_id]
    assert sorted(mine, key=str) == sorted([(lists.news, {}), (lists.breaks, {}),
                                            (None, {"suppression_lifted": "erased"})], key=str)
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Suppression)) == 0


def test_erase_pressed_twice_at_once(app: Flask, lists: Lists, db: Settings) -> None:
    jo = _jo(lists, lists.news)
    prefs = path_of(links.preferences_url(db, jo), db)
    clients = [app.test_client(), app.test_client()]
    tokens = [csrf_from(client, prefs + "/erase") for client in clients]
    with AllReadNoneWritten(2) as gate:
        answers = at_once(*(lambda c=c, t=t: c.post(prefs + "/erase", data={"csrf_token": t})
                            for c, t in zip(clients, tokens)), gate=gate)
    assert gate.met == 2
    assert [a.status_code for a in answers] == [200, 200]
    assert all(b"Your details have been erased" in a.data for a in answers)
    [line] = _lines(ConsentAction.ERASE)
    assert line.email_hash == email_hash("jo@example.org") and line.subscriber_id is None
    assert line.detail == {"subscriptions": 1}
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Subscriber)) == 0
        assert [s.reason.value for s in session.scalars(select(Suppression))] == ["erased"]


def test_stop_all_emails_pressed_twice_at_once(app: Flask, lists: Lists, db: Settings) -> None:
    jo = _jo(lists, lists.news, lists.breaks)
    prefs = path_of(links.preferences_url(db, jo), db)
    clients = [app.test_client(), app.test_client()]
    tokens = [csrf_from(client, prefs) for client in clients]
    with AllReadNoneWritten(2) as gate:
        answers = at_once(*(lambda c=c, t=t: c.post(prefs + "/leave", data={"csrf_token": t})
                            for c, t in zip(clients, tokens)), gate=gate)
    assert gate.met == 2
    assert [a.status_code for a in answers] == [200, 200]
    assert set(_statuses().values()) == {SubscriptionStatus.UNSUBSCRIBED}
    assert sorted(line.list_id for line in _lines(ConsentAction.UNSUBSCRIBE)) == sorted([lists.news, lists.breaks])
    with session_scope() as session:
        assert store.get_subscriber(session, "jo@example.org").status is SubscriberStatus.UNSUBSCRIBED


def test_preferences_saved_twice_at_once(app: Flask, lists: Lists, db: Settings) -> None:
    jo = _jo(lists, lists.news)
    prefs = path_of(links.preferences_url(db, jo), db)
    clients = [app.test_client(), app.test_client()]
    forms = []
    for client in clients:
        form = form_as_shown(client, prefs)
        form.update(lists=[str(lists.breaks)], name=["Jo Bloggs"])
        forms.append(form)
    with AllReadNoneWritten(2) as gate:
        answers = at_once(*(lambda c=c, f=f: c.post(prefs, data=f) for c, f in zip(clients, forms)), gate=gate)
    assert gate.met == 2
    assert [a.status_code for a in answers] == [303, 303]
    assert _statuses() == {"send-news": SubscriptionStatus.UNSUBSCRIBED, "short-breaks": SubscriptionStatus.CONFIRMED}
    assert [line.list_id for line in _lines(ConsentAction.UNSUBSCRIBE)] == [lists.news]
    assert [line.list_id for line in _lines(ConsentAction.CONFIRM) if line.source is ConsentSource.PREFERENCE_CENTRE] \
        == [lists.breaks]
    assert [line.detail for line in _lines(ConsentAction.PREFERENCES)] == [{"name": "changed"}]


def _subscribe_twice_at_once(app: Flask, email: str, *list_ids: int) -> list[int]:
    clients = [app.test_client(), app.test_client()]
    tokens = [csrf_from(client, "/subscribe") for client in clients]
    data = {"email": email, "name": "Jo", "lists": [str(i) for i in list_ids]}
    with AllReadNoneWritten(2) as gate:
        answers = at_once(*(lambda c=c, t=t: c.post("/subscribe", data={**data, "csrf_token": t})
                            for c, t in zip(clients, tokens)), gate=gate)
    assert gate.met == 2
    return [answer.status_code for answer in answers]


def test_subscribe_form_double_click_for_a_new_address(app: Flask, lists: Lists, smtp: SmtpServer) -> None:
    assert _subscribe_twice_at_once(app, "jo@example.org", lists.news, lists.breaks) == [200, 200]
    assert _statuses() == {"send-news": SubscriptionStatus.UNCONFIRMED, "short-breaks": SubscriptionStatus.UNCONFIRMED}
    assert sorted(line.list_id for line in _lines(ConsentAction.SUBSCRIBE)) == sorted([lists.news, lists.breaks])
    assert len(smtp.messages) == 1, "one confirmation email"
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Subscriber)) == 1


def test_subscribe_form_double_click_for_someone_already_here(app: Flask, lists: Lists, smtp: SmtpServer) -> None:
    _jo(lists, lists.adults)
    assert _subscribe_twice_at_once(app, "jo@example.org", lists.news) == [200, 200]
    assert _statuses() == {"adulthood": SubscriptionStatus.CONFIRMED, "send-news": SubscriptionStatus.UNCONFIRMED}
    assert [line.list_id for line in _lines(ConsentAction.SUBSCRIBE)] == [lists.news]
    assert len(smtp.messages) == 1, "one confirmation email"
