"""An import racing the people it imports: someone leaving, someone being erased, the same file twice.

Each test runs the competing action in another thread at a chosen moment of the import (just before a
given statement, see tests/subscribers/races.py), on SQLite and PostgreSQL, and checks the final state
and the exact consent log. The competing action may finish in that moment, or wait for the import's
locks; either way the result must be one the two could have produced one after the other, with the
person's own choice never undone.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from newsletter.config import Settings
from newsletter.db import session_scope
from subscribers import erasure, membership, store
from subscribers.csv_export import export_list
from subscribers.csv_import import ImportReport, import_csv
from subscribers.emails import email_hash
from subscribers.models import (
    ConsentAction,
    ConsentEntry,
    ConsentSource,
    MailingList,
    SubscriberStatus,
    SubscriptionStatus,
    Suppression,
    SuppressionReason,
)
from subscribers.preferences import leave_everything
from tests.subscribers.conftest import Lists
from tests.subscribers.races import Interleave

CONSENT = "Signed paper form at the SEND fair, 3 May 2026"
# The import's first write to subscriptions comes after it has read them: the moment a stale read bites.
BEFORE_WRITING_SUBSCRIPTIONS = r"^\s*(INSERT INTO subscriptions|UPDATE subscriptions)"


def _lists(*slugs: str) -> list[MailingList]:
    with session_scope() as session:
        return store.get_lists(session, slugs)


def _log(email: str) -> list[tuple[ConsentAction, ConsentSource, str | None]]:
    with session_scope() as session:
        person = store.get_subscriber(session, email)
        return [(e.action, e.source, lst.slug if lst else None) for e, lst in store.consent_history(session, person.id)]


def _status(email: str) -> dict[str, SubscriptionStatus]:
    with session_scope() as session:
        person = store.find_subscriber(session, email)
        if person is None:
            return {}
        return {lst.slug: row.status for row, lst in store.subscriptions_of(session, person.id)}


def _exported(slug: str) -> str:
    out = io.StringIO()
    with session_scope() as session:
        export_list(session, store.get_list(session, slug), out, statuses=tuple(SubscriptionStatus))
    return out.getvalue()


def _waiting_on_news(email: str, name: str) -> None:
    """Someone who asked to join the newsletter and has not confirmed yet."""
    with session_scope() as session:
        person, _ = store.get_or_create_subscriber(session, email, name)
        membership.add_unconfirmed(session, person, store.get_list(session, "send-news"), source=ConsentSource.FORM,
                                   wording="The form")


def _one_click_from_news() -> None:
    with session_scope() as session:
        person = store.get_subscriber(session, "jo@example.org")
        membership.leave(session, person, [store.get_list(session, "send-news").id], source=ConsentSource.ONE_CLICK)


def _stop_all_emails() -> None:
    with session_scope() as session:
        leave_everything(session, store.get_subscriber(session, "jo@example.org"))


@pytest.mark.parametrize("leaving", [_one_click_from_news, _stop_all_emails], ids=["one-click", "stop-all"])
def test_someone_leaving_during_the_batch_stays_left(db: Settings, lists: Lists, tmp_path: Path,
                                                     leaving: Callable[[], None]) -> None:
    """Jo is waiting to confirm the newsletter; the import (with consent) would confirm her; she leaves."""
    _waiting_on_news("jo@example.org", "Jo")
    source = tmp_path / "families.csv"
    source.write_text("email,name\r\njo@example.org,Jo\r\n", encoding="utf-8")
    with Interleave(BEFORE_WRITING_SUBSCRIPTIONS, leaving) as race:
        report = import_csv(source, _lists("send-news"), session_scope, consent=CONSENT)
    assert race.fired
    assert _status("jo@example.org") == {"send-news": SubscriptionStatus.UNSUBSCRIBED}
    log = _log("jo@example.org")
    source_of_leaving = ConsentSource.ONE_CLICK if leaving is _one_click_from_news else ConsentSource.PREFERENCE_CENTRE
    if race.finished_first:  # she left before the import decided: it must not bring her back
        assert log == [(ConsentAction.SUBSCRIBE, ConsentSource.FORM, "send-news"),
                       (ConsentAction.UNSUBSCRIBE, source_of_leaving, "send-news")]
        assert (report.confirmed, report.not_added_back) == (0, 1)
    else:  # she waited for the import's batch, then left: her choice is the last word
        assert log == [(ConsentAction.SUBSCRIBE, ConsentSource.FORM, "send-news"),
                       (ConsentAction.CONFIRM, ConsentSource.IMPORT, "send-news"),
                       (ConsentAction.UNSUBSCRIBE, source_of_leaving, "send-news")]
        assert (report.confirmed, report.not_added_back) == (1, 0)
    if leaving is _stop_all_emails:
        with session_scope() as session:
            assert store.get_subscriber(session, "jo@example.org").status is SubscriberStatus.UNSUBSCRIBED


ERASURE_MOMENTS = {
    "before reading subscribers": r"\bFROM subscribers\b",
    "before storing new subscribers": r"^\s*INSERT INTO subscribers",
    "before writing subscriptions": BEFORE_WRITING_SUBSCRIPTIONS,
    "before writing consent lines": r"^\s*INSERT INTO consent_log",
}


@pytest.mark.parametrize("moment", list(ERASURE_MOMENTS))
def test_someone_erased_during_the_batch_is_not_brought_back(db: Settings, lists: Lists, tmp_path: Path,
                                                             moment: str) -> None:
    with session_scope() as session:
        jo, _ = store.get_or_create_subscriber(session, "jo@example.org", "Jo")
        jo.attributes = {"Postcode": "AB1 2CD"}
        membership.add_confirmed(session, jo, store.get_list(session, "send-news"), source=ConsentSource.ADMIN,
                                 wording="Paper form")
    source = tmp_path / "families.csv"
    source.write_text("email,name,Postcode\r\njo@example.org,Jo,AB1 2CD\r\nsam@example.org,Sam,XY9\r\n",
                      encoding="utf-8")

    def erase_jo() -> None:
        with session_scope() as session:
            erasure.erase_email(session, "jo@example.org")

    with Interleave(ERASURE_MOMENTS[moment], erase_jo) as race:
        report = import_csv(source, _lists("short-breaks"), session_scope, consent=CONSENT)
    assert race.fired
    assert _status("jo@example.org") == {}, "erased, and not brought back"
    assert _status("sam@example.org") == {"short-breaks": SubscriptionStatus.CONFIRMED}
    with session_scope() as session:
        assert store.find_subscriber(session, "jo@example.org") is None
        suppression = session.scalars(select(Suppression)).one()
        assert (suppression.email_hash, suppression.reason, suppression.email) == \
            (email_hash("jo@example.org"), SuppressionReason.ERASED, None)
        erased = session.scalars(select(ConsentEntry).where(ConsentEntry.action == ConsentAction.ERASE)).one()
        assert erased.email_hash == email_hash("jo@example.org")
        # Jo's lines are anonymous now; the only line that still names anyone is Sam's.
        named = session.scalars(select(ConsentEntry).where(ConsentEntry.subscriber_id.is_not(None))).all()
        assert [(e.action, e.list_id) for e in named] == [(ConsentAction.CONFIRM, lists.breaks)]
    for slug in ("send-news", "short-breaks"):
        assert "jo@example.org" not in _exported(slug)
    # Jo was either seen erased (not added back) or added to the list and then erased with everything else.
    assert (report.added, report.not_added_back, report.invalid) in {(1, 1, 0), (2, 0, 0)}
    if race.finished_first:
        assert report.not_added_back == 1


@pytest.mark.parametrize("waiting", [False, True], ids=["joining", "confirming"])
def test_the_same_file_imported_twice_at_once_logs_once(db: Settings, lists: Lists, tmp_path: Path,
                                                        waiting: bool) -> None:
    """Four people already stored (on another list, or waiting on this one); two imports of one file."""
    people = ["amina@example.org", "ben@example.org", "chloe@example.org", "dev@example.org"]
    with session_scope() as session:
        adults = store.get_list(session, "adulthood")
        for email in people:
            person, _ = store.get_or_create_subscriber(session, email, email.split("@")[0].title())
            membership.add_confirmed(session, person, adults, source=ConsentSource.ADMIN, wording="Paper form")
    if waiting:
        for email in people:
            with session_scope() as session:
                membership.add_unconfirmed(session, store.get_subscriber(session, email),
                                           store.get_list(session, "send-news"), source=ConsentSource.FORM,
                                           wording="The form")
    source = tmp_path / "families.csv"
    source.write_text("email,name\r\n" + "".join(f"{e},{e.split('@')[0].title()}\r\n" for e in people),
                      encoding="utf-8")

    def second_import() -> ImportReport:
        return import_csv(source, _lists("send-news"), session_scope, consent=CONSENT,
                          problems_path=tmp_path / "second-problems.csv")

    with Interleave(BEFORE_WRITING_SUBSCRIPTIONS, second_import) as race:
        first = import_csv(source, _lists("send-news"), session_scope, consent=CONSENT)
    second = race.result
    assert race.fired and isinstance(second, ImportReport)
    for email in people:
        assert _status(email) == {"adulthood": SubscriptionStatus.CONFIRMED, "send-news": SubscriptionStatus.CONFIRMED}
        news = [line for line in _log(email) if line[2] == "send-news"]
        expected = [(ConsentAction.CONFIRM, ConsentSource.IMPORT, "send-news")]
        if waiting:
            expected.insert(0, (ConsentAction.SUBSCRIBE, ConsentSource.FORM, "send-news"))
        assert news == expected, f"one line for {email}"
    # Between them the two reports tell the truth: each person joined (or was confirmed) once.
    changed = "confirmed" if waiting else "added"
    assert getattr(first, changed) + getattr(second, changed) == 4
    assert first.unchanged + second.unchanged == 4
    assert (first.added + second.added, first.confirmed + second.confirmed) == ((0, 4) if waiting else (4, 0))
    assert first.problems == second.problems == 0


def test_export_leaves_out_suppressed_addresses(db: Settings, lists: Lists, tmp_path: Path) -> None:
    from subscribers import api

    source = tmp_path / "families.csv"
    source.write_text("email,name\r\njo@example.org,Jo\r\nsam@example.org,Sam\r\n", encoding="utf-8")
    import_csv(source, _lists("send-news"), session_scope, consent=CONSENT)
    with session_scope() as session:
        api.suppress(session, "jo@example.org", "hard_bounce", "bounce")
    exported = _exported("send-news")
    assert "sam@example.org" in exported and "jo@example.org" not in exported
