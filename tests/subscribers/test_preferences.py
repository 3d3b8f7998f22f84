"""The preference centre, reached by a signed personal link: choices, name, leaving, my data, erase me."""

from __future__ import annotations

import json
import time

import pytest
from flask.testing import FlaskClient
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import select

from newsletter.config import Settings
from newsletter.db import session_scope
from subscribers import background, links, membership, store
from subscribers.emails import email_hash
from subscribers.models import (
    ConsentAction,
    ConsentEntry,
    ConsentSource,
    Subscriber,
    SubscriberStatus,
    SubscriptionStatus,
    Suppression,
    SuppressionReason,
)
from tests.smtp import SmtpServer
from tests.subscribers.conftest import Lists, form_as_shown, links_in, path_of, post_form, save_preferences, ticked


@pytest.fixture
def reader(db: Settings, lists: Lists) -> Subscriber:
    with session_scope() as session:
        person, _ = store.get_or_create_subscriber(session, "jo@example.org", "Jo")
        person.attributes = {"postcode": "AB1 2CD"}
        for list_id in (lists.news, lists.private):
            membership.add_confirmed(session, person, store.lists_by_id(session, [list_id])[0],
                                     source=ConsentSource.IMPORT, wording="Paper form, SEND fair 2026")
        return person


@pytest.fixture
def prefs(reader: Subscriber, db: Settings) -> str:
    return path_of(links.preferences_url(db, reader), db)


def _statuses() -> dict[str, SubscriptionStatus]:
    with session_scope() as session:
        person = store.get_subscriber(session, "jo@example.org")
        return {lst.slug: row.status for row, lst in store.subscriptions_of(session, person.id)}


def test_page_shows_choices_with_only_current_lists_ticked(client: FlaskClient, prefs: str, lists: Lists) -> None:
    page = client.get(prefs)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "jo@example.org" in text and 'value="Jo"' in text
    boxes = ticked(text)
    assert boxes[str(lists.news)] and boxes[str(lists.private)]
    assert not boxes[str(lists.breaks)] and not boxes[str(lists.adults)]
    assert "Parent carer forum members" in text, "a private list they are on is shown so they can leave it"
    assert page.headers["X-Robots-Tag"] == "noindex" and "no-store" in page.headers["Cache-Control"]
    assert '<meta name="robots" content="noindex">' in text
    for label in ('<label for="name">', f'<label for="list-{lists.breaks}">'):
        assert label in text
    assert "/data.json" in text and "/erase" in text and "Stop all emails" in text


def test_changing_lists_and_name(client: FlaskClient, prefs: str, lists: Lists) -> None:
    response = save_preferences(client, prefs, lists=[lists.breaks, lists.adults, 99999], name="  Jo  Bloggs ")
    assert response.status_code == 303 and response.headers["Location"].endswith("?saved=1")
    assert b"Your choices are saved" in client.get(response.headers["Location"]).data
    assert _statuses() == {"adulthood": SubscriptionStatus.CONFIRMED, "forum": SubscriptionStatus.UNSUBSCRIBED,
                           "send-news": SubscriptionStatus.UNSUBSCRIBED, "short-breaks": SubscriptionStatus.CONFIRMED}
    with session_scope() as session:
        person = store.get_subscriber(session, "jo@example.org")
        assert person.name == "Jo Bloggs"
        log = [(e.action, e.source, e.detail) for e, _ in store.consent_history(session, person.id)
               if e.source is ConsentSource.PREFERENCE_CENTRE]
        assert (ConsentAction.PREFERENCES, ConsentSource.PREFERENCE_CENTRE, {"name": "changed"}) in log
        assert sum(1 for a, _, _ in log if a is ConsentAction.CONFIRM) == 2
        assert sum(1 for a, _, _ in log if a is ConsentAction.UNSUBSCRIBE) == 2
        assert all("Jo" not in json.dumps(d) for _, _, d in log), "names never go into the log"
    # The private list, once left, is not offered again.
    assert f'id="list-{lists.private}"' not in client.get(prefs).get_data(as_text=True)


def test_name_too_long_is_an_error_on_the_field(client: FlaskClient, prefs: str, lists: Lists) -> None:
    response = save_preferences(client, prefs, lists=[lists.news], name="x" * 201)
    assert response.status_code == 400
    assert b'<a href="#name">Your name must be 200 characters or fewer</a>' in response.data
    with session_scope() as session:
        assert store.get_subscriber(session, "jo@example.org").name == "Jo"


def test_stop_all_emails_and_come_back(client: FlaskClient, prefs: str, lists: Lists) -> None:
    done = post_form(client, prefs + "/leave", {}, form_page=prefs)
    assert done.status_code == 200 and b"You will not get any more emails" in done.data
    assert set(_statuses().values()) == {SubscriptionStatus.UNSUBSCRIBED}
    with session_scope() as session:
        assert store.get_subscriber(session, "jo@example.org").status is SubscriberStatus.UNSUBSCRIBED
    assert b"You are not getting any of our emails" in client.get(prefs).data
    save_preferences(client, prefs, lists=[lists.news], name="Jo")
    with session_scope() as session:
        assert store.get_subscriber(session, "jo@example.org").status is SubscriberStatus.ACTIVE
    assert _statuses()["send-news"] is SubscriptionStatus.CONFIRMED


def test_download_my_data(client: FlaskClient, prefs: str) -> None:
    response = client.get(prefs + "/data.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "no-store" in response.headers["Cache-Control"]
    data = json.loads(response.data)
    assert data["email"] == "jo@example.org" and data["name"] == "Jo"
    assert data["attributes"] == {"postcode": "AB1 2CD"}
    assert {s["list_slug"] for s in data["subscriptions"]} == {"send-news", "forum"}
    assert data["consent_log"][0]["wording"] == "Paper form, SEND fair 2026"


def test_erase_me(client: FlaskClient, prefs: str, db: Settings, reader: Subscriber, lists: Lists) -> None:
    unsubscribe = path_of(links.unsubscribe_url(db, reader, [lists.news]), db)
    page = client.get(prefs + "/erase")
    assert page.status_code == 200 and b"Erase my details" in page.data
    with session_scope() as session:
        assert store.find_subscriber(session, "jo@example.org") is not None, "GET erases nothing"
    done = post_form(client, prefs + "/erase", {})
    assert done.status_code == 200 and b"Your details have been erased" in done.data
    with session_scope() as session:
        assert store.find_subscriber(session, "jo@example.org") is None
        suppression = session.scalar(select(Suppression))
        assert suppression.email is None and suppression.reason is SuppressionReason.ERASED
        assert suppression.email_hash == email_hash("jo@example.org")
        lines = session.scalars(select(ConsentEntry)).all()
        assert all(line.subscriber_id is None for line in lines)
        erase_line = next(line for line in lines if line.action is ConsentAction.ERASE)
        assert erase_line.email_hash == suppression.email_hash and erase_line.source is ConsentSource.PREFERENCE_CENTRE
        text = json.dumps([[l.wording, l.detail] for l in lines])
        assert "jo@example.org" not in text and "Jo" not in text
    for path in (prefs, prefs + "/data.json"):
        gone = client.get(path)
        assert gone.status_code == 404 and b"We have no details for this link" in gone.data
    assert client.post(unsubscribe, data={"List-Unsubscribe": "One-Click"}).status_code == 200


def test_tampered_and_expired_links_offer_a_new_one(client: FlaskClient, prefs: str, reader: Subscriber, db: Settings,
                                                     smtp: SmtpServer) -> None:
    tampered = prefs[:-3] + ("abc" if not prefs.endswith("abc") else "xyz")
    for path in (tampered, tampered + "/data.json", "/p/" + links.unsubscribe_url(db, reader, []).rsplit("/", 1)[1]):
        page = client.get(path)
        assert page.status_code == 400 and b"This link does not work" in page.data
        assert b'href="/preferences"' in page.data
    assert post_form(client, tampered + "/erase", {}, form_page="/subscribe").status_code == 400

    old = int(time.time()) - links.PREFERENCES_MAX_AGE - 10

    class LongAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return old

    expired = URLSafeTimedSerializer(db.secret_key, salt=f"newsletter.{links.PREFERENCES}", signer=LongAgo).dumps(
        reader.token_key)
    page = client.get(f"/p/{expired}")
    assert page.status_code == 400 and b"expired" in page.data
    with session_scope() as session:
        assert store.find_subscriber(session, "jo@example.org") is not None

    # Asking for a new link: the same answer for a stranger's address, and only the owner gets mail.
    for email in ("nobody@example.org", "JO@example.org"):
        answer = post_form(client, "/preferences", {"email": email})
        assert answer.status_code == 200 and b"Check your email" in answer.data
    assert background.drain()  # the link is mailed off the request path
    assert [m.recipients for m in smtp.messages] == [["jo@example.org"]]
    fresh = path_of(links_in(smtp.messages[0])[0], db)
    assert client.get(fresh).status_code == 200
    bad = post_form(client, "/preferences", {"email": "not an address"})
    assert bad.status_code == 400 and b"correct format" in bad.data


def test_a_tab_opened_before_an_unsubscribe_does_not_join_again(client: FlaskClient, prefs: str, lists: Lists,
                                                                 db: Settings, reader: Subscriber) -> None:
    """A tab opened before a one-click unsubscribe, saved later for a name change: the list stays left."""
    stale = form_as_shown(client, prefs)
    assert str(lists.news) in stale["lists"], "the page showed the newsletter ticked"
    one_click = path_of(links.unsubscribe_url(db, reader, [lists.news]), db)
    assert client.post(one_click, data={"List-Unsubscribe": "One-Click"}).status_code == 200

    response = save_preferences(client, prefs, shown=stale, name="Jo Bloggs")
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Some of your choices changed after you opened this page" in page
    assert "We saved the changes you made." in page
    assert "SEND newsletter: you do not get these emails" in page
    assert not ticked(page)[str(lists.news)], "the page now shows the list as it is"
    assert _statuses()["send-news"] is SubscriptionStatus.UNSUBSCRIBED
    with session_scope() as session:
        person = store.get_subscriber(session, "jo@example.org")
        assert person.name == "Jo Bloggs"
        news = [(e.action, e.source) for e, lst in store.consent_history(session, person.id)
                if lst is not None and lst.id == lists.news]
        assert news == [(ConsentAction.CONFIRM, ConsentSource.IMPORT),
                        (ConsentAction.UNSUBSCRIBE, ConsentSource.ONE_CLICK)]
        assert [e.detail for e, _ in store.consent_history(session, person.id)
                if e.action is ConsentAction.PREFERENCES] == [{"name": "changed"}]

    # Ticking it again on the fresh page is a choice, and it is applied.
    again = save_preferences(client, prefs, lists=[lists.news, lists.private])
    assert again.status_code == 303
    assert _statuses()["send-news"] is SubscriptionStatus.CONFIRMED


def test_changes_made_elsewhere_the_same_way_are_not_a_conflict(client: FlaskClient, prefs: str, lists: Lists,
                                                                 db: Settings, reader: Subscriber) -> None:
    stale = form_as_shown(client, prefs)
    one_click = path_of(links.unsubscribe_url(db, reader, [lists.news]), db)
    client.post(one_click, data={"List-Unsubscribe": "One-Click"})
    # The person unticks the list the unsubscribe link already left, and ticks another.
    response = save_preferences(client, prefs, shown=stale, lists=[lists.private, lists.breaks])
    assert response.status_code == 303
    assert _statuses() == {"send-news": SubscriptionStatus.UNSUBSCRIBED, "forum": SubscriptionStatus.CONFIRMED,
                           "short-breaks": SubscriptionStatus.CONFIRMED}
    with session_scope() as session:
        lines = session.scalars(select(ConsentEntry).where(ConsentEntry.action == ConsentAction.UNSUBSCRIBE)).all()
        assert len(lines) == 1, "leaving what was already left writes nothing"


def test_a_form_without_what_it_showed_changes_nothing(client: FlaskClient, prefs: str, lists: Lists) -> None:
    response = post_form(client, prefs, {"lists": [str(lists.breaks)], "name": "Someone"})
    assert response.status_code == 409
    assert "Nothing was changed" in response.get_data(as_text=True)
    assert _statuses() == {"send-news": SubscriptionStatus.CONFIRMED, "forum": SubscriptionStatus.CONFIRMED}
    with session_scope() as session:
        assert store.get_subscriber(session, "jo@example.org").name == "Jo"
