"""Joining through the form: double opt-in by a real email, and answers that never give an address away."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy import select

from newsletter.config import Settings
from newsletter.db import session_scope
from subscribers import erasure, links, store
from subscribers.models import ConsentAction, ConsentEntry, ConsentSource, Subscriber, SubscriptionStatus, Suppression
from tests.smtp import SmtpServer
from tests.subscribers.conftest import Clock, Lists, csrf_from, links_in, path_of, post_form, ticked


def _status(email: str) -> dict[str, SubscriptionStatus]:
    with session_scope() as session:
        subscriber = store.find_subscriber(session, email)
        if subscriber is None:
            return {}
        return {lst.slug: row.status for row, lst in store.subscriptions_of(session, subscriber.id)}


def _subscribe(client: FlaskClient, email: str, *list_ids: int, name: str = "", path: str = "/subscribe"):  # type: ignore[no-untyped-def]
    return post_form(client, path, {"email": email, "name": name, "lists": [str(i) for i in list_ids]})


def test_form_is_accessible_and_nothing_is_ticked(client: FlaskClient, lists: Lists) -> None:
    page = client.get("/subscribe").get_data(as_text=True)
    assert '<label for="email">Email address</label>' in page
    assert '<label for="name">Your name (optional)</label>' in page
    assert "<legend>Which emails would you like?</legend>" in page
    for list_id in (lists.news, lists.breaks, lists.adults, lists.instant):
        assert f'<label for="list-{list_id}">' in page
    assert f'id="list-{lists.private}"' not in page, "a private list is never offered"
    assert not any(ticked(page).values()), "no list may be ticked for the reader"
    assert "captcha" not in page.lower()
    assert "You can stop the emails or change your choices at any time" in page
    assert "<script>" not in page and "style=" not in page, "the CSP forbids inline script and style"


def test_double_opt_in_from_form_to_confirmed(client: FlaskClient, lists: Lists, smtp: SmtpServer, db: Settings) -> None:
    answer = _subscribe(client, " Jo.Bloggs@Example.ORG ", lists.news, lists.breaks, name="Jo")
    assert answer.status_code == 200
    assert b"Check your email" in answer.data
    assert _status("jo.bloggs@example.org") == {"send-news": SubscriptionStatus.UNCONFIRMED,
                                                "short-breaks": SubscriptionStatus.UNCONFIRMED}
    assert len(smtp.messages) == 1
    mail = smtp.messages[0]
    assert mail.recipients == ["jo.bloggs@example.org"]
    assert mail.message["Subject"] == "Please confirm you want our emails"
    html = mail.message.get_body(preferencelist=("html",)).get_content()
    assert 'lang="en-GB"' in html and "Yes, send me these emails" in html
    confirm = path_of(links_in(mail)[0], db)
    assert confirm.startswith("/subscribe/confirm/")

    # A mail scanner opening the link changes nothing: only the button does.
    page = client.get(confirm)
    assert page.status_code == 200 and b"Yes, send me these emails" in page.data
    assert _status("jo.bloggs@example.org")["send-news"] is SubscriptionStatus.UNCONFIRMED

    done = post_form(client, confirm, {})
    assert done.status_code == 200 and b"You are subscribed" in done.data
    assert _status("jo.bloggs@example.org") == {"send-news": SubscriptionStatus.CONFIRMED,
                                                "short-breaks": SubscriptionStatus.CONFIRMED}
    again = post_form(client, confirm, {})  # a second click is harmless
    assert again.status_code == 200
    with session_scope() as session:
        subscriber = store.get_subscriber(session, "jo.bloggs@example.org")
        assert subscriber.name == "Jo"
        log = [(e.action, e.source) for e, _ in store.consent_history(session, subscriber.id)]
        assert log.count((ConsentAction.SUBSCRIBE, ConsentSource.FORM)) == 2
        assert log.count((ConsentAction.CONFIRM, ConsentSource.FORM)) == 2
        wording = [e.wording for e, lst in store.consent_history(session, subscriber.id) if e.action is ConsentAction.SUBSCRIBE]
        assert all("You can stop the emails" in w for w in wording)
        assert any("Holiday clubs and activities" in w for w in wording)


def test_double_subscription_answers_the_same_and_changes_nothing(
    client: FlaskClient, lists: Lists, smtp: SmtpServer, db: Settings, clock: Clock
) -> None:
    first = _subscribe(client, "jo@example.org", lists.news)
    post_form(client, path_of(links_in(smtp.messages[0])[0], db), {})
    with session_scope() as session:
        before = session.scalar(select(Subscriber).where(Subscriber.email == "jo@example.org"))
        name_before = before.name

    from subscribers import signup

    with session_scope() as session:  # let the per-address email interval pass without sleeping
        person = store.get_subscriber(session, "jo@example.org")
        person.last_emailed_at = person.last_emailed_at - signup.EMAIL_INTERVAL
    second = _subscribe(client, "JO@example.org", lists.news, name="Someone Else")
    assert second.status_code == first.status_code == 200
    strip = lambda page: re.sub(r'name="csrf_token" value="[^"]+"', "", page.get_data(as_text=True)).lower()
    assert strip(second) == strip(first), "the page must not reveal that the address was already subscribed"
    assert _status("jo@example.org") == {"send-news": SubscriptionStatus.CONFIRMED}
    with session_scope() as session:
        after = store.get_subscriber(session, "jo@example.org")
        assert after.name == name_before, "a stranger at the form cannot rename a subscriber"
    # The owner hears about it in their own mailbox, with their preferences link.
    assert len(smtp.messages) == 2
    assert smtp.messages[1].message["Subject"] == "You already get our emails"
    assert "/p/" in links_in(smtp.messages[1])[0]


def test_form_cannot_flood_a_mailbox(client: FlaskClient, lists: Lists, smtp: SmtpServer) -> None:
    for _ in range(3):
        assert b"Check your email" in _subscribe(client, "jo@example.org", lists.news).data
    assert len(smtp.messages) == 1


def test_validation_errors_are_summarised_and_linked(client: FlaskClient, lists: Lists, smtp: SmtpServer) -> None:
    page = _subscribe(client, "jo at example", name="Jo")
    assert page.status_code == 400
    text = page.get_data(as_text=True)
    assert "<title>Error: " in text
    assert 'role="alert"' in text and "There is a problem" in text
    assert '<a href="#email">Enter an email address in the correct format, like name@example.com</a>' in text
    assert f'<a href="#list-{lists.breaks}">Choose at least one type of email</a>' in text or \
        "Choose at least one type of email" in text
    assert 'aria-invalid="true"' in text and 'aria-describedby="email-error"' in text
    assert 'value="jo at example"' in text and 'value="Jo"' in text, "what was typed is kept"
    empty = _subscribe(client, "", lists.news)
    assert b"Enter your email address" in empty.data
    assert smtp.messages == [] and _status("jo@example.org") == {}


def test_honeypot_gets_the_usual_answer_and_nothing_happens(client: FlaskClient, lists: Lists, smtp: SmtpServer) -> None:
    token = csrf_from(client, "/subscribe")
    page = client.post("/subscribe", data={"email": "bot@example.org", "lists": [str(lists.news)],
                                           "website": "http://spam.example", "csrf_token": token})
    assert page.status_code == 200 and b"Check your email" in page.data
    assert smtp.messages == [] and _status("bot@example.org") == {}


def test_rate_limit_per_ip_without_sleeping(client: FlaskClient, lists: Lists, smtp: SmtpServer, clock: Clock) -> None:
    for n in range(5):
        assert _subscribe(client, f"reader{n}@example.org", lists.news).status_code == 200
    blocked = _subscribe(client, "reader9@example.org", lists.news)
    assert blocked.status_code == 429 and b"Too many attempts" in blocked.data
    assert blocked.headers["Retry-After"] == "600"
    assert _status("reader9@example.org") == {}
    other = client.post("/subscribe", environ_base={"REMOTE_ADDR": "192.0.2.7"},
                        data={"email": "neighbour@example.org", "lists": [str(lists.news)],
                              "csrf_token": csrf_from(client, "/subscribe")})
    assert other.status_code == 200, "another address is not held back"
    clock.now += 601
    assert _subscribe(client, "reader9@example.org", lists.news).status_code == 200


def test_form_for_one_list_and_private_lists_are_hidden(client: FlaskClient, lists: Lists, smtp: SmtpServer) -> None:
    page = client.get("/subscribe/short-breaks")
    assert page.status_code == 200 and b"Get Short breaks and activities by email" in page.data
    assert client.get("/subscribe/forum").status_code == 404
    assert client.get("/subscribe/nothing-here").status_code == 404
    assert _subscribe(client, "jo@example.org", path="/subscribe/short-breaks").status_code == 200
    assert _status("jo@example.org") == {"short-breaks": SubscriptionStatus.UNCONFIRMED}
    # A forged form naming the private list from the general form does nothing for that list.
    _subscribe(client, "sam@example.org", lists.private, lists.news)
    assert _status("sam@example.org") == {"send-news": SubscriptionStatus.UNCONFIRMED}


def test_list_without_double_opt_in_starts_at_once(client: FlaskClient, lists: Lists, smtp: SmtpServer) -> None:
    assert _subscribe(client, "jo@example.org", lists.instant).status_code == 200
    assert _status("jo@example.org") == {"events": SubscriptionStatus.CONFIRMED}
    assert smtp.messages == []


def test_someone_who_left_needs_their_own_click_to_come_back(
    client: FlaskClient, lists: Lists, smtp: SmtpServer, db: Settings
) -> None:
    _subscribe(client, "jo@example.org", lists.instant)
    with session_scope() as session:
        from subscribers import membership

        membership.leave_everything(session, store.get_subscriber(session, "jo@example.org"), source=ConsentSource.ADMIN)
    _subscribe(client, "jo@example.org", lists.instant)
    assert _status("jo@example.org") == {"events": SubscriptionStatus.UNSUBSCRIBED}, "a stranger cannot re-add them"
    assert len(smtp.messages) == 1
    post_form(client, path_of(links_in(smtp.messages[0])[0], db), {})
    assert _status("jo@example.org") == {"events": SubscriptionStatus.CONFIRMED}


def test_bad_and_expired_confirmation_links_change_nothing(
    client: FlaskClient, lists: Lists, smtp: SmtpServer, db: Settings
) -> None:
    _subscribe(client, "jo@example.org", lists.news)
    confirm = path_of(links_in(smtp.messages[0])[0], db)
    tampered = confirm[:-4] + ("AAAA" if not confirm.endswith("AAAA") else "BBBB")
    for path in (tampered, "/subscribe/confirm/nonsense"):
        page = client.get(path)
        assert page.status_code == 400 and b"This link does not work" in page.data and b"Traceback" not in page.data
        assert post_form(client, path, {}, form_page="/subscribe").status_code == 400
    with session_scope() as session:
        person = store.get_subscriber(session, "jo@example.org")
        key = person.token_key
    from itsdangerous import TimestampSigner, URLSafeTimedSerializer

    class EightDaysAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            import time

            return int(time.time()) - 8 * 24 * 3600

    old = URLSafeTimedSerializer(db.secret_key, salt=f"newsletter.{links.CONFIRM}", signer=EightDaysAgo).dumps(
        f"{key}{lists.news}")
    page = post_form(client, f"/subscribe/confirm/{old}", {}, form_page="/subscribe")
    assert page.status_code == 400 and b"expired" in page.data
    assert _status("jo@example.org") == {"send-news": SubscriptionStatus.UNCONFIRMED}


def test_erasure_then_subscribing_again(client: FlaskClient, lists: Lists, smtp: SmtpServer, db: Settings) -> None:
    _subscribe(client, "jo@example.org", lists.instant, name="Jo")
    with session_scope() as session:
        erasure.erase_email(session, "jo@example.org")
    assert _status("jo@example.org") == {}
    _subscribe(client, "Jo@Example.org", lists.instant)
    # Erased once: even a list without double opt-in needs the owner's own click now.
    assert _status("jo@example.org") == {"events": SubscriptionStatus.UNCONFIRMED}
    with session_scope() as session:
        assert session.scalar(select(Suppression)) is not None
        assert store.get_subscriber(session, "jo@example.org").name is None, "the old name is gone for good"
    post_form(client, path_of(links_in(smtp.messages[-1])[0], db), {})
    assert _status("jo@example.org") == {"events": SubscriptionStatus.CONFIRMED}
    with session_scope() as session:
        assert session.scalar(select(Suppression)) is None, "their own confirmation lifts the erasure block"
        details = [e.detail for e in session.scalars(select(ConsentEntry).where(ConsentEntry.action == ConsentAction.CONFIRM))]
        assert {"suppression_lifted": "erased"} in details


def test_forms_need_the_csrf_token(client: FlaskClient, lists: Lists, smtp: SmtpServer) -> None:
    client.get("/subscribe")
    page = client.post("/subscribe", data={"email": "jo@example.org", "lists": [str(lists.news)]})
    assert page.status_code == 400 and b"reload the page" in page.data
    forged = client.post("/subscribe", data={"email": "jo@example.org", "lists": [str(lists.news)],
                                             "csrf_token": "forged.token.value"})
    assert forged.status_code == 400
    fresh = client.application.test_client()  # another browser: a token without its own cookie is refused
    token = csrf_from(client, "/subscribe")
    assert fresh.post("/subscribe", data={"email": "jo@example.org", "lists": [str(lists.news)],
                                          "csrf_token": token}).status_code == 400
    cross = client.post("/subscribe", headers={"Origin": "https://evil.example"},
                        data={"email": "jo@example.org", "lists": [str(lists.news)], "csrf_token": token})
    assert cross.status_code == 400
    assert _status("jo@example.org") == {} and smtp.messages == []


def test_csrf_cookie_is_safe_and_only_set_where_there_is_a_form(client: FlaskClient, lists: Lists) -> None:
    page = client.get("/subscribe")
    cookie = page.headers["Set-Cookie"]
    assert "newsletter_csrf=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie
    assert "Set-Cookie" not in client.get("/issues/").headers
