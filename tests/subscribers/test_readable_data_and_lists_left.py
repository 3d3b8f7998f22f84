"""What a reader sees of their own details: a page to read beside the JSON, and, after unsubscribing,
which lists they are still on."""

from __future__ import annotations

from flask.testing import FlaskClient

from newsletter.config import Settings
from newsletter.db import session_scope
from subscribers import links, membership, store
from subscribers.models import ConsentSource, Subscriber
from tests.subscribers.conftest import Lists, path_of


def _jo(lists: Lists, *list_ids: int) -> Subscriber:
    with session_scope() as session:
        person, _ = store.get_or_create_subscriber(session, "jo@example.org", "Jo")
        person.attributes = {"Child's school": "Hill School"}
        for list_id in list_ids:
            membership.add_confirmed(session, person, store.lists_by_id(session, [list_id])[0],
                                     source=ConsentSource.IMPORT, wording="Paper form, SEND fair 2026")
        return person


def test_the_preferences_page_offers_a_page_to_read_beside_the_json(client: FlaskClient, db: Settings,
                                                                    lists: Lists) -> None:
    person = _jo(lists, lists.news, lists.breaks)
    prefs = path_of(links.preferences_url(db, person), db)
    page = client.get(prefs).get_data(as_text=True)
    assert f'href="{prefs}/data"' in page and f'href="{prefs}/data.json"' in page
    response = client.get(f"{prefs}/data")
    assert response.status_code == 200 and "no-store" in response.headers.get("Cache-Control", "")
    text = response.get_data(as_text=True)
    assert "The details we hold about you" in text and "jo@example.org" in text
    assert "Child&#39;s school" in text and "Hill School" in text
    assert "SEND newsletter</strong>: You get these emails" in text
    assert "Confirmed (SEND newsletter), through a list the team imported." in text
    assert "Paper form, SEND fair 2026" in text
    assert '"consent_log"' not in text and "list_slug" not in text, "words, not the JSON's keys"
    assert client.get(f"{prefs}x/data").status_code in (400, 404)


def test_the_unsubscribe_confirmation_names_the_lists_still_on(client: FlaskClient, db: Settings,
                                                               lists: Lists) -> None:
    person = _jo(lists, lists.news, lists.breaks)
    path = path_of(links.unsubscribe_url(db, person, [lists.news]), db)
    page = client.post(path, data={"List-Unsubscribe": "One-Click", "from": "page"}).get_data(as_text=True)
    assert "You have unsubscribed" in page
    assert "You still get: Short breaks and activities." in page
    path = path_of(links.unsubscribe_url(db, person, [lists.breaks]), db)
    page = client.post(path, data={"List-Unsubscribe": "One-Click", "from": "page"}).get_data(as_text=True)
    assert "You are not on any of our other lists, so we will not email you again." in page
    # The one-click POST from a mail provider still gets no page at all.
    assert client.post(path, data={"List-Unsubscribe": "One-Click"}).get_data(as_text=True) == ""
