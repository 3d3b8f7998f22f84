"""Leaving from an email: RFC 8058 one-click, the page a person sees, and the mailto address."""

from __future__ import annotations

import mailbox
from email.message import EmailMessage
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from newsletter.config import Settings
from newsletter.db import session_scope
from subscribers import erasure, links, membership, store
from subscribers.models import ConsentAction, ConsentEntry, ConsentSource, SubscriptionStatus
from subscribers.unsubscribe import process_maildir
from tests.smtp import SmtpServer
from tests.subscribers.conftest import Lists


@pytest.fixture
def reader(db: Settings, lists: Lists):  # type: ignore[no-untyped-def]
    """Jo, confirmed on the newsletter and short breaks."""
    with session_scope() as session:
        person, _ = store.get_or_create_subscriber(session, "jo@example.org", "Jo")
        for list_id in (lists.news, lists.breaks):
            membership.add_confirmed(session, person, store.lists_by_id(session, [list_id])[0],
                                     source=ConsentSource.ADMIN, wording="Paper form")
        return person


def _statuses() -> dict[str, SubscriptionStatus]:
    with session_scope() as session:
        person = store.get_subscriber(session, "jo@example.org")
        return {lst.slug: row.status for row, lst in store.subscriptions_of(session, person.id)}


def _path(url: str, settings: Settings) -> str:
    return url[len(settings.base_url):]


BOTH = {"send-news": SubscriptionStatus.CONFIRMED, "short-breaks": SubscriptionStatus.CONFIRMED}


def test_one_click_post_unsubscribes_at_once_with_no_page(client: FlaskClient, reader, lists: Lists, db: Settings) -> None:  # type: ignore[no-untyped-def]
    path = _path(links.unsubscribe_url(db, reader, [lists.news]), db)
    # As Gmail and Yahoo send it: form-urlencoded, no cookies, no CSRF token, no Origin.
    response = client.post(path, data="List-Unsubscribe=One-Click",
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200 and response.data == b""
    assert "Location" not in response.headers and "Set-Cookie" not in response.headers
    assert _statuses() == {"send-news": SubscriptionStatus.UNSUBSCRIBED, "short-breaks": SubscriptionStatus.CONFIRMED}
    with session_scope() as session:
        entry = session.scalars(select(ConsentEntry).where(ConsentEntry.action == ConsentAction.UNSUBSCRIBE)).one()
        assert entry.source is ConsentSource.ONE_CLICK and entry.list_id == lists.news
    again = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert again.status_code == 200
    with session_scope() as session:
        assert len(session.scalars(select(ConsentEntry).where(ConsentEntry.action == ConsentAction.UNSUBSCRIBE)).all()) == 1


def test_one_click_accepts_multipart(client: FlaskClient, reader, lists: Lists, db: Settings) -> None:  # type: ignore[no-untyped-def]
    path = _path(links.unsubscribe_url(db, reader, [lists.news, lists.breaks]), db)
    boundary = "----provider"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n"
            f"--{boundary}--\r\n")
    response = client.post(path, data=body, content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 200 and response.data == b""
    assert set(_statuses().values()) == {SubscriptionStatus.UNSUBSCRIBED}


def test_get_on_the_one_click_url_changes_nothing(client: FlaskClient, reader, lists: Lists, db: Settings) -> None:  # type: ignore[no-untyped-def]
    path = _path(links.unsubscribe_url(db, reader, [lists.news]), db)
    for _ in range(3):  # a link scanner, a preview pane, the person
        page = client.get(path)
        assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "SEND newsletter" in text and "Short breaks" not in text
    assert "jo…@example.org" in text and "jo@example.org" not in text
    assert text.count("<button") == 1 and 'method="post"' in text
    assert page.headers["X-Robots-Tag"] == "noindex" and "no-store" in page.headers["Cache-Control"]
    assert client.head(path).status_code == 200
    assert _statuses() == BOTH
    # The page's one button: the same address, and a page back for a person.
    done = client.post(path, data={"List-Unsubscribe": "One-Click", "from": "page"})
    assert done.status_code == 200 and b"You have unsubscribed" in done.data and b"/p/" in done.data
    assert _statuses()["send-news"] is SubscriptionStatus.UNSUBSCRIBED
    with session_scope() as session:
        entry = session.scalars(select(ConsentEntry).where(ConsentEntry.action == ConsentAction.UNSUBSCRIBE)).one()
        assert entry.source is ConsentSource.UNSUBSCRIBE_PAGE


@pytest.mark.parametrize("body", [
    {}, {"List-Unsubscribe": "one-click"}, {"List-Unsubscribe": "Yes"}, {"unsubscribe": "One-Click"},
])
def test_post_with_the_wrong_body_changes_nothing(client: FlaskClient, reader, lists: Lists, db: Settings, body) -> None:  # type: ignore[no-untyped-def]
    path = _path(links.unsubscribe_url(db, reader, [lists.news]), db)
    response = client.post(path, data=body)
    assert response.status_code == 400 and b"List-Unsubscribe=One-Click" in response.data
    assert _statuses() == BOTH


def test_tampered_and_foreign_tokens_get_a_clear_answer_and_change_nothing(
    client: FlaskClient, reader, lists: Lists, db: Settings  # type: ignore[no-untyped-def]
) -> None:
    token = links.unsubscribe_url(db, reader, [lists.news]).rsplit("/", 1)[1]
    tampered = token[:5] + ("X" if token[5] != "X" else "Y") + token[6:]
    foreign = links.preferences_url(db, reader).rsplit("/", 1)[1]
    for bad in (tampered, foreign, "not-a-token"):
        post = client.post(f"/u/{bad}", data={"List-Unsubscribe": "One-Click"})
        assert post.status_code == 400 and b"not valid" in post.data
        page = client.get(f"/u/{bad}")
        assert page.status_code == 400 and b"This link does not work" in page.data and b"<h1>" in page.data
        by_page = client.post(f"/u/{bad}", data={"List-Unsubscribe": "One-Click", "from": "page"})
        assert by_page.status_code == 400 and b"This link does not work" in by_page.data
    assert _statuses() == BOTH


def test_a_link_naming_no_list_leaves_every_list(client: FlaskClient, reader, db: Settings) -> None:  # type: ignore[no-untyped-def]
    path = _path(links.unsubscribe_url(db, reader, []), db)
    assert b"SEND newsletter" in client.get(path).data
    assert client.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    assert set(_statuses().values()) == {SubscriptionStatus.UNSUBSCRIBED}


def test_after_erasure_the_link_answers_calmly(client: FlaskClient, reader, lists: Lists, db: Settings) -> None:  # type: ignore[no-untyped-def]
    path = _path(links.unsubscribe_url(db, reader, [lists.news]), db)
    with session_scope() as session:
        erasure.erase_email(session, "jo@example.org")
    assert client.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    page = client.get(path)
    assert page.status_code == 200 and b"You are not on our lists" in page.data


def _maildir(tmp_path: Path, *messages: EmailMessage) -> Path:
    folder = tmp_path / "Maildir"
    box = mailbox.Maildir(folder, create=True)
    for message in messages:
        box.add(mailbox.MaildirMessage(message))
    return folder


def _mail(to: str, header: str = "To") -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Jo <jo@example.org>"
    message[header] = to
    message["Subject"] = "unsubscribe"
    message.set_content("This message was automatically generated by Gmail.")
    return message


def test_mailto_unsubscribe_from_a_maildir(tmp_path: Path, reader, lists: Lists, db: Settings) -> None:  # type: ignore[no-untyped-def]
    address = links.mailto_unsubscribe_address(db, reader, [lists.breaks])
    forged = address.replace("-", "-9", 1)
    folder = _maildir(tmp_path, _mail(address.upper(), "Delivered-To"), _mail("newsletter@example.org"),
                      _mail(forged))
    report = process_maildir(folder, db, session_scope)
    assert (report.read, report.unsubscribed, report.not_ours) == (3, 1, 2)
    assert _statuses() == {"send-news": SubscriptionStatus.CONFIRMED, "short-breaks": SubscriptionStatus.UNSUBSCRIBED}
    with session_scope() as session:
        entry = session.scalars(select(ConsentEntry).where(ConsentEntry.action == ConsentAction.UNSUBSCRIBE)).one()
        assert entry.source is ConsentSource.MAILTO
    # Processed messages are marked read and not processed twice.
    again = process_maildir(folder, db, session_scope)
    assert again.read == 0
    assert all("S" in message.get_flags() for message in mailbox.Maildir(folder, factory=None))
    # A new message for the same address again: harmless.
    box = mailbox.Maildir(folder)
    box.add(mailbox.MaildirMessage(_mail(address)))
    later = process_maildir(folder, db, session_scope, delete=True)
    assert (later.read, later.unsubscribed, later.already_gone) == (1, 0, 1)
    assert len(mailbox.Maildir(folder)) == 3


def test_confirmation_pages_use_the_site_layout(client: FlaskClient, reader, lists: Lists, db: Settings, smtp: SmtpServer) -> None:  # type: ignore[no-untyped-def]
    page = client.get(_path(links.unsubscribe_url(db, reader, [lists.news]), db)).get_data(as_text=True)
    assert '<html lang="en-GB"' in page and "Skip to main content" in page and "subscribers.css" in page
    assert "<h1>Unsubscribe</h1>" in page
